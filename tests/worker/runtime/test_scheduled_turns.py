"""Scheduled turns in a worker on real Redis: bot code schedules (a method by name, an event),
replaces by key and cancels; the watcher queues due turns, counts them and sweeps the shards
other workers watch."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.turn_context import TurnContext
from worker.runtime.metrics import WorkerMetrics
from worker.runtime.process import run_worker
from worker.runtime.scheduled_turns import DueTurns


class Planner(ActivityHandler):
    """`plan <seconds>` schedules `remind` (a method: it travels by name) under the key `plan`;
    `event` schedules an event; `lambda` tries a lambda; `cancel` cancels by key; `list`
    lists."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        reference = TurnContext.get_conversation_reference(turn_context.activity)
        adapter = turn_context.adapter
        if text.startswith("plan "):
            after = float(text.removeprefix("plan "))
            await adapter.schedule_turn(reference, self.remind, after=after, key="plan")
            await turn_context.send_activity("planned")
        elif text == "event":
            await adapter.schedule_turn(reference, "ping", after=0.2, value={"n": 7})
            await turn_context.send_activity("evented")
        elif text == "lambda":
            try:
                await adapter.schedule_turn(reference, lambda c: c.send_activity("x"), after=1)
            except TypeError as e:
                await turn_context.send_activity(f"refused: {e}")
        elif text == "cancel":
            cancelled = await adapter.cancel_scheduled_turn(reference=reference, key="plan")
            await turn_context.send_activity(f"cancelled: {cancelled}")
        elif text == "list":
            waiting = await adapter.scheduled_turns(reference)
            await turn_context.send_activity(f"waiting: {[t.key for t in waiting]}")
        else:
            await turn_context.send_activity(f"Echo: {text}")

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await turn_context.send_activity(f"event {activity.name} {activity.value}")

    async def remind(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity("reminder")


async def _texts(dev: DevConnector, count: int, conversation: str) -> list[str]:
    await dev.wait_for(count, within=30)
    return [a["text"] for a in dev.activities() if a["conversation"]["id"] == conversation]


async def test_bot_code_schedules_replaces_cancels_and_the_turns_run_in_order(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, Planner(), handle_signals=False, stop=stop))
    try:

        async def say(text: str, conversation: str = "c-1") -> None:
            await enqueue(
                redis,
                keys,
                message(text, conversation=conversation, service_url=service_url, activity_id=None),
            )

        await say("lambda")
        await say("plan 60", "c-2")
        await say("plan 0.5", "c-2")  # same key: replaces the first
        await say("list", "c-2")
        await say("plan 60", "c-3")
        await say("cancel", "c-3")
        await say("event")
        assert (await _texts(dev, 7, "c-1"))[0].startswith("refused: ")
        await dev.wait_for(9, within=30)  # the event's turn and c-2's reminder
        await say("after", "c-2")
        await dev.wait_for(10, within=30)
    finally:
        stop.set()
        consumer = await worker

    c1 = await _texts(dev, 10, "c-1")
    assert "module-level async function or a method of the bot" in c1[0]
    assert c1[1:] == ["evented", "event ping {'n': 7}"]
    assert await _texts(dev, 10, "c-2") == [
        "planned",
        "planned",
        "waiting: ['plan']",
        "reminder",
        "Echo: after",
    ]
    assert await _texts(dev, 10, "c-3") == ["planned", "cancelled: True"]
    assert await Schedule(redis, keys).waiting() == []
    assert await pending_count(redis, keys) == 0
    registry = consumer.observer.metrics.registry
    assert registry.get_sample_value("turnstream_scheduled_turns_scheduled_total") == 4
    assert registry.get_sample_value("turnstream_scheduled_turns_fired_total") == 2


def _reference(conversation: str) -> dict[str, Any]:
    return {
        "channelId": "test",
        "serviceUrl": "http://127.0.0.1:1/",
        "conversation": {"id": conversation},
    }


async def _fired(due: DueTurns, count: int) -> None:
    for _ in range(600):
        if due.fired >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{due.fired} of {count} turns fired")


async def test_the_watcher_fires_its_shards_counts_late_turns_and_sweeps_the_others(
    redis: Redis, keys: Keyspace
) -> None:
    schedule = Schedule(redis, keys)
    metrics = WorkerMetrics()
    now = time.time()
    overdue = await schedule.schedule(_reference("late"), now - 5, event="e")
    mine = schedule.shard_of_id(overdue)
    others = [s for s in range(keys.shards) if s != mine]
    due = DueTurns(schedule, keys.shards, lambda: [mine], metrics, sweep_seconds=0.2)
    watcher = asyncio.create_task(due.run())
    try:
        await _fired(due, 1)
        soon = next(
            c for c in (f"soon-{n}" for n in range(100)) if keys.shard_of(f"test/{c}") == mine
        )
        await schedule.schedule(_reference(soon), time.time() + 0.3, event="e")
        due.wake()  # as the adapter does: the watcher learns the new due time at once
        await _fired(due, 2)
        elsewhere = next(
            c for c in (f"else-{n}" for n in range(100)) if keys.shard_of(f"test/{c}") in others
        )
        await schedule.schedule(_reference(elsewhere), time.time(), event="e")
        await _fired(due, 3)  # not its shard: swept once overdue by the grace
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher
    registry = metrics.registry
    assert registry.get_sample_value("turnstream_scheduled_turns_fired_total") == 3
    # The 5 s overdue one is late; the others are too only if this machine stalled a second.
    assert (registry.get_sample_value("turnstream_scheduled_turns_late_total") or 0) >= 1
    late_buckets = registry.get_sample_value(
        "turnstream_scheduled_turn_lateness_seconds_bucket", {"le": "2.5"}
    )
    assert late_buckets is not None and late_buckets <= 2  # the 5 s one is past that bucket
    assert registry.get_sample_value("turnstream_scheduled_turn_lateness_seconds_count") == 3
    assert await schedule.waiting() == []
