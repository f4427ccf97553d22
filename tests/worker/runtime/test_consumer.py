"""The worker loop in burst mode against a real Redis and a real loopback connector."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import orjson
import pytest

from samples.echo import bot as echo
from shared.loops import LoopDied
from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from shared.settings import Settings
from tests.support.activities import message
from tests.support.bots import failing
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.app import BotApp
from worker.bot.turn_context import TurnContext
from worker.runtime.consumer import Consumer
from worker.runtime.delivery import trimming
from worker.runtime.process import run_worker


async def test_burst_runs_every_turn_in_order_and_acknowledges(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    for n in range(10):
        for conversation in ("a", "b", "c"):
            activity = message(
                f"{conversation}{n}",
                activity_id=f"{conversation}-{n}",
                conversation=conversation,
                service_url=service_url,
            )
            await enqueue(redis, keys, activity)

    consumer = await run_worker(settings, echo, concurrency=4, burst=True, handle_signals=False)

    assert (consumer.turns_done, consumer.turns_failed) == (30, 0)
    for conversation in ("a", "b", "c"):
        texts = [a["text"] for a in dev.activities() if a["conversation"]["id"] == conversation]
        assert texts == [f"Echo: {conversation}{n}" for n in range(10)]
    assert await pending_count(redis, keys) == 0
    for stream in keys.streams():  # it left the group: it holds nothing
        assert await redis.xinfo_consumers(stream, CONSUMER_GROUP) == []
    # A second run finds the groups in place and nothing left to do.
    again = await run_worker(settings, echo, burst=True, handle_signals=False)
    assert again.turns_done == 0


async def test_a_bot_error_goes_to_on_turn_error_and_is_acknowledged(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    for n, text in enumerate(["a", "boom", "b"]):
        await enqueue(redis, keys, message(text, activity_id=str(n), service_url=service_url))

    consumer = await run_worker(settings, failing, burst=True, handle_signals=False)

    assert (consumer.turns_done, consumer.turns_failed) == (3, 0)
    assert [a["text"] for a in dev.activities()] == [
        "ok a",
        "The bot encountered an error or bug.",
        "To continue to run this bot, please fix the bot source code.",
        "ok b",
    ]  # no trace: this is not the emulator channel, and never the exception text
    assert await pending_count(redis, keys) == 0


async def test_custom_on_turn_error_and_the_emulator_trace(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    seen: list[str] = []

    async def on_error(context: TurnContext, error: Exception) -> None:
        seen.append(f"{type(error).__name__}: {error}")
        await context.send_trace_activity("OnTurnError Trace", str(error))

    emulator = {**message("boom", service_url=service_url), "channelId": "emulator"}
    await enqueue(redis, keys, emulator)
    app = BotApp(failing, on_turn_error=on_error)

    await run_worker(settings, app, burst=True, handle_signals=False)

    assert seen == ["RuntimeError: boom"]
    assert [(a["type"], a.get("name")) for a in dev.activities()] == [
        ("trace", "OnTurnError Trace")
    ]


async def test_connector_down_is_retried_in_place_then_dead_lettered(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    await enqueue(redis, keys, message("hi", service_url="http://127.0.0.1:9"))
    fast = dataclasses.replace(settings, connector_timeout_seconds=2, max_deliveries=2)
    consumer = await run_worker(fast, echo, burst=True, handle_signals=False)
    assert (consumer.turns_done, consumer.turns_failed) == (0, 2)
    assert await pending_count(redis, keys) == 0
    dead: Any = await redis.xrange(keys.dead_letters(keys.shard_of("test/conv-1")))
    ((_, fields),) = dead
    assert fields[b"reason"].startswith(b"failed 2 times (limit 2): CannotConnect")


async def test_an_unreadable_entry_goes_to_the_dead_letter_stream(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    shard = keys.shard_of("test/conv-1")
    await redis.xadd(keys.stream(shard), {ENVELOPE_FIELD: b"\xc1garbage"})
    await enqueue(redis, keys, message("after", service_url=service_url))

    consumer = await run_worker(settings, echo, burst=True, handle_signals=False)

    assert consumer.turns_done == 1
    assert [a["text"] for a in dev.activities()] == ["Echo: after"]
    assert await pending_count(redis, keys) == 0
    entries: Any = await redis.xrange(keys.dead_letters(shard))
    ((_, fields),) = entries
    assert fields[b"reason"].startswith(b"unreadable entry")
    assert fields[ENVELOPE_FIELD.encode()] == b"\xc1garbage"  # kept as it was, not dropped


async def test_entries_with_the_same_id_on_two_shards_are_two_entries(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    """Each stream numbers its entries on its own, so one id can name an entry on every shard:
    the worker's per-entry bookkeeping (attempts, sent replies, order verdicts) must not mix
    them up."""
    dev, service_url = connector
    conversations = _on_distinct_shards(keys, 2)
    for conversation in conversations:
        activity = message(conversation, conversation=conversation, service_url=service_url)
        envelope = Envelope(orjson.dumps(activity), f"test/{conversation}", time.time())
        shard = keys.shard_of(f"test/{conversation}")
        await redis.xadd(
            keys.stream(shard), {ENVELOPE_FIELD: envelope.encode(), PREVIOUS_FIELD: ""}, id="7-1"
        )

    consumer = await run_worker(settings, echo, burst=True, handle_signals=False)

    assert consumer.turns_done == 2
    assert sorted(a["text"] for a in dev.activities()) == sorted(
        f"Echo: {c}" for c in conversations
    )
    assert await pending_count(redis, keys) == 0


def _on_distinct_shards(keys: Keyspace, count: int) -> list[str]:
    by_shard: dict[int, str] = {}
    for n in range(100):
        by_shard.setdefault(keys.shard_of(f"test/c{n}"), f"c{n}")
    return list(by_shard.values())[:count]


class FailsOnceAfterReplying(ActivityHandler):
    """Replies, then fails the way a lost network does, the first time only."""

    def __init__(self) -> None:
        self.attempts = 0

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.attempts += 1
        await turn_context.send_activity("reply")
        if self.attempts == 1:
            raise ConnectionResetError("Redis went away after the reply")
        await turn_context.send_activity("after the retry")


async def test_a_turn_retried_in_place_does_not_send_its_replies_again(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    await enqueue(redis, keys, message("hi", service_url=service_url))
    bot = FailsOnceAfterReplying()

    consumer = await run_worker(settings, bot, burst=True, handle_signals=False)

    assert (bot.attempts, consumer.turns_failed, consumer.turns_done) == (2, 1, 1)
    assert [a["text"] for a in dev.activities()] == ["reply", "after the retry"]
    assert await pending_count(redis, keys) == 0


class AlwaysUnreachable(ActivityHandler):
    """'flaky' fails the way a lost network does (transient); anything else is echoed."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == "flaky":
            raise ConnectionResetError("connector unreachable")
        await turn_context.send_activity(f"ok {turn_context.activity.text}")


async def test_a_turn_failing_past_the_delivery_limit_is_dead_lettered_and_the_rest_goes_on(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    fast = dataclasses.replace(settings, claim_idle_seconds=1, max_deliveries=2)
    await enqueue(redis, keys, message("flaky", activity_id="a", service_url=service_url))
    await enqueue(redis, keys, message("next", activity_id="b", service_url=service_url))
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(fast, AlwaysUnreachable(), handle_signals=False, stop=stop)
    )
    await dev.wait_for(1, within=20)  # "next" ran only once "flaky" was dead-lettered
    stop.set()
    consumer = await worker

    assert [a["text"] for a in dev.activities()] == ["ok next"]  # still in order, after it
    assert consumer.turns_failed == 2  # tried twice in place, then moved aside
    entries: Any = await redis.xrange(keys.dead_letters(keys.shard_of("test/conv-1")))
    ((_, fields),) = entries
    assert fields[b"reason"] == (
        b"failed 2 times (limit 2): ConnectionResetError: connector unreachable"
    )
    assert await pending_count(redis, keys) == 0


async def test_a_background_loop_that_dies_stops_the_worker_loudly(
    redis: Redis, keys: Keyspace, scripts: RespExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renewal (or takeover, trim, affinity) loop that dies on an unexpected error must not
    leave the worker reading with its leases unrenewed: it stops reading, drains, and `run`
    raises `LoopDied` naming the loop."""

    async def nothing(envelope: Envelope, commit: Any) -> None:
        pass

    consumer = Consumer(redis, keys, nothing, scripts=scripts, concurrency=2)

    async def broken_trim(*args: Any) -> None:
        raise RuntimeError("trim loop bug")

    monkeypatch.setattr(trimming, "keep_trimmed", broken_trim)
    async with asyncio.timeout(30):
        with pytest.raises(LoopDied) as raised:
            await consumer.run()  # not burst: only the loop's death can end it
    assert raised.value.name == "trimming"
    assert consumer.stopping
