"""Proactive callbacks that cannot travel by name (lambdas, closures), with two workers on real
Redis: the turn runs in the worker that kept the callback, in order with the conversation's
turns, once; a turn whose holder is gone is dead-lettered with the reason."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ResponseError

from shared.protocol.keys import Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.turn_context import TurnContext
from worker.runtime.consumer import Consumer
from worker.runtime.local_callbacks import LocalCallbacks
from worker.runtime.process import run_worker

CONVERSATIONS = [f"c-{n}" for n in range(12)]


class Announcer(ActivityHandler):
    """Echoes; `announce` (in any conversation) queues a lambda's turn in every conversation
    of CONVERSATIONS, as the SDK's proactive sample does."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url
        self.ran_in: list[str] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text != "announce":
            await turn_context.send_activity(f"Echo: {turn_context.activity.text}")
            return
        for conversation in CONVERSATIONS:
            addressed = message("", conversation=conversation, service_url=self.service_url)
            reference = TurnContext.get_conversation_reference(Activity.from_dict(addressed))
            await turn_context.adapter.continue_conversation(
                reference,
                lambda context: self._hello(context),
                "",  # the samples pass the app id, empty in anonymous mode
            )

    async def _hello(self, turn_context: TurnContext) -> None:
        assert turn_context.activity.conversation is not None
        self.ran_in.append(str(turn_context.activity.conversation.id))
        await turn_context.send_activity("proactive hello")


@dataclasses.dataclass
class Workers:
    stop: asyncio.Event
    tasks: list[asyncio.Task[Consumer]]
    bots: list[Announcer]

    async def stopped(self) -> list[Consumer]:
        self.stop.set()
        return [await task for task in self.tasks]


@pytest.fixture
async def workers(
    settings: Settings, connector: tuple[DevConnector, str]
) -> AsyncIterator[Workers]:
    _, service_url = connector
    stop = asyncio.Event()
    bots = [Announcer(service_url), Announcer(service_url)]
    tasks = [
        asyncio.create_task(run_worker(settings, bot, handle_signals=False, stop=stop))
        for bot in bots
    ]
    running = Workers(stop, tasks, bots)
    yield running
    if not stop.is_set():
        await running.stopped()


async def _quiet(redis: Redis, keys: Keyspace, dev: DevConnector, count: int) -> None:
    await dev.wait_for(count, within=30)
    for _ in range(600):
        if await pending_count(redis, keys) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("entries still pending")


async def test_a_lambdas_turn_runs_once_in_the_worker_that_kept_it_in_order(
    workers: Workers, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    for conversation in CONVERSATIONS:
        await enqueue(
            redis, keys, message("one", conversation=conversation, service_url=service_url)
        )
    await dev.wait_for(len(CONVERSATIONS), within=30)
    await enqueue(redis, keys, message("announce", conversation="admin", service_url=service_url))
    await _quiet(redis, keys, dev, 2 * len(CONVERSATIONS))
    for conversation in CONVERSATIONS:
        await enqueue(
            redis, keys, message("two", conversation=conversation, service_url=service_url)
        )
    await _quiet(redis, keys, dev, 3 * len(CONVERSATIONS))

    consumers = await workers.stopped()

    for conversation in CONVERSATIONS:
        texts = [a.get("text") for a in dev.activities() if a["conversation"]["id"] == conversation]
        assert texts == ["Echo: one", "proactive hello", "Echo: two"], conversation
    # The lambdas ran in the worker whose turn queued them, each once; the other worker read
    # some of their entries (the conversations are spread over the shards) and passed them on.
    ran = [sorted(bot.ran_in) for bot in workers.bots]
    assert sorted([*ran[0], *ran[1]]) == sorted(CONVERSATIONS)
    assert [] in ran
    handed = sum(
        c.observer.metrics.registry.get_sample_value(
            "turnstream_worker_turns_total", {"outcome": "handed_over"}
        )
        or 0
        for c in consumers
    )
    assert handed > 0
    assert not await redis.keys(f"{keys.prefix}:callbacks:*")  # dropped when they stopped


async def test_a_turn_whose_holder_is_gone_is_dead_lettered_and_the_conversation_moves_on(
    workers: Workers, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    reference = {
        "channelId": "test",
        "serviceUrl": service_url,
        "conversation": {"id": "orphan"},
        "bot": {"id": "bot-1"},
    }
    # Queued by a worker that kept a lambda and died (no holder key any more).
    await ProactiveQueue(redis, keys).enqueue(reference, callback="local:gone-1-abc:0f0f")
    await enqueue(redis, keys, message("after", conversation="orphan", service_url=service_url))
    await _quiet(redis, keys, dev, 1)

    assert [a.get("text") for a in dev.activities()] == ["Echo: after"]
    shard = keys.shard_of("test/orphan")
    letters: Any = await redis.xrange(keys.dead_letters(shard))
    (letter,) = letters
    reason = letter[1][b"reason"].decode()
    assert "worker gone-1-abc" in reason
    assert "stopped before running it" in reason


async def test_a_turn_handed_to_a_holder_that_then_stops_is_dead_lettered_not_lost(
    settings: Settings,
    redis: Redis,
    scripts: RespExecutor,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    fast = dataclasses.replace(settings, claim_idle_seconds=1)
    holder = LocalCallbacks(redis, scripts, keys, "holder-x")
    ran: list[str] = []

    async def hello(turn_context: TurnContext) -> None:
        ran.append("hello")

    reference = {"channelId": "test", "serviceUrl": service_url, "conversation": {"id": "h-1"}}
    name = await holder.keep(hello)
    entry_id = await ProactiveQueue(redis, keys).enqueue(reference, callback=name)
    holder.queued(name, "test/h-1", entry_id)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(fast, Announcer(service_url), handle_signals=False, stop=stop)
    )
    stream = keys.stream(keys.shard_of("test/h-1"))
    try:
        for _ in range(400):  # the worker read it and handed it to its holder
            try:
                pending: Any = await redis.xpending_range(stream, "workers", "-", "+", 1)
            except ResponseError:  # the worker has not created its group yet
                pending = []
            if pending and pending[0]["consumer"] == b"holder-x":
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the entry was not handed over")
        await holder.close()  # the holder stops without having run it
        await enqueue(redis, keys, message("next", conversation="h-1", service_url=service_url))
        await _quiet(redis, keys, dev, 1)
    finally:
        stop.set()
        await worker

    assert ran == []
    assert [a.get("text") for a in dev.activities()] == ["Echo: next"]
    letters: Any = await redis.xrange(keys.dead_letters(keys.shard_of("test/h-1")))
    (letter,) = letters
    assert letter[1][b"entry"].decode() == entry_id
    assert b"worker holder-x, which stopped" in letter[1][b"reason"]
