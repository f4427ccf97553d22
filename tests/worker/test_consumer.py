"""The worker loop in burst mode against a real Redis and a real loopback connector."""

from __future__ import annotations

import dataclasses

from samples.echo import bot as echo
from shared.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace
from shared.redisconn import Redis
from shared.settings import Settings
from tests.activities import message
from tests.bots import failing
from tests.conftest import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.app import BotApp
from worker.main import run_worker
from worker.turn_context import TurnContext


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


async def test_connector_down_leaves_the_turn_pending(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    await enqueue(redis, keys, message("hi", service_url="http://127.0.0.1:9"))
    fast = dataclasses.replace(settings, connector_timeout_seconds=2)
    consumer = await run_worker(fast, echo, burst=True, handle_signals=False)
    assert (consumer.turns_done, consumer.turns_failed) == (0, 1)
    assert await pending_count(redis, keys) == 1
    stream = keys.stream(keys.shard_of("test/conv-1"))
    (kept,) = await redis.xinfo_consumers(stream, CONSUMER_GROUP)
    assert kept["pending"] == 1  # a consumer holding entries is never removed


async def test_unreadable_entry_is_left_pending_not_dropped(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    activity = message("after", service_url=service_url)
    await redis.xadd(keys.stream(keys.shard_of("test/conv-1")), {ENVELOPE_FIELD: b"\xc1garbage"})
    await enqueue(redis, keys, activity)

    consumer = await run_worker(settings, echo, burst=True, handle_signals=False)

    assert consumer.turns_done == 1
    assert [a["text"] for a in dev.activities()] == ["Echo: after"]
    assert await pending_count(redis, keys) == 1
