"""Typing while queued: a message that waits for its turn gets a typing indicator first."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp
import orjson

from gateway.app import create_app
from shared.protocol.chain import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker


class SlowEcho(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == "slow":
            await asyncio.sleep(1.0)
        await turn_context.send_activity(f"Echo: {turn_context.activity.text}")


async def test_a_message_waiting_behind_a_busy_worker_gets_typing_once(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    settings = dataclasses.replace(
        settings, typing_while_queued_seconds=0.3, typing_excluded_channels=("email",)
    )
    dev, url = connector
    stop = asyncio.Event()
    # One turn at a time: whatever comes after the slow message waits for it.
    worker = asyncio.create_task(
        run_worker(settings, SlowEcho(), concurrency=1, handle_signals=False, stop=stop)
    )
    activities = [
        message("slow", activity_id="a1", conversation="a", service_url=url),
        message("hi", activity_id="b1", conversation="b", service_url=url),
        message("mail", activity_id="c1", conversation="c", service_url=url, channel="email"),
    ]
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        for activity in activities:
            assert (await post_json(http, f"{gateway}/api/messages", activity))[0] == 202
        received = await dev.wait_for(4, within=10)
        await asyncio.sleep(0.3)  # nothing more comes
    stop.set()
    await worker

    kinds = [(r.conversation_id, r.body["type"], r.body.get("text")) for r in dev.received]
    assert sorted(kinds) == sorted(
        [
            ("a", "message", "Echo: slow"),
            ("b", "typing", None),
            ("b", "message", "Echo: hi"),
            ("c", "message", "Echo: mail"),
        ]
    )
    assert kinds.index(("b", "typing", None)) < kinds.index(("b", "message", "Echo: hi"))
    typing = next(r for r in received if r.body["type"] == "typing")
    assert typing.body["from"] == {"id": "bot-1", "name": "Bot"}
    assert typing.body["recipient"]["id"] == "user-1"
    assert typing.path == "/v3/conversations/b/activities"


async def test_a_message_read_late_whose_turn_starts_at_once_gets_no_typing(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    """A backlog: the messages waited in Redis far past the threshold, but each turn starts as
    soon as a worker reads it, so a typing would only double the connector calls."""
    settings = dataclasses.replace(settings, typing_while_queued_seconds=0.3)
    dev, url = connector
    for n in range(5):
        activity = message(f"m{n}", activity_id=f"m{n}", conversation=f"late-{n}", service_url=url)
        conversation = conversation_key("test", f"late-{n}")
        received_long_ago = Envelope(orjson.dumps(activity), conversation, time.time() - 10)
        await redis.eval(
            ENQUEUE_SCRIPT,
            ENQUEUE_KEYS,
            *enqueue_arguments(keys, conversation, received_long_ago.encode()),
        )

    consumer = await run_worker(
        settings, SlowEcho(), concurrency=8, burst=True, handle_signals=False
    )

    assert consumer.turns_done == 5
    assert sorted(r.body["text"] for r in dev.received) == [f"Echo: m{n}" for n in range(5)]
