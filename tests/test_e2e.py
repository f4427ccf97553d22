"""Channel -> gateway (real HTTP) -> Redis Streams -> worker -> connector (real HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from samples.echo import bot as echo
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

CONVERSATIONS = 6
MESSAGES = 8


def _join(conversation: str, service_url: str) -> dict[str, Any]:
    return {
        "type": "conversationUpdate",
        "id": f"{conversation}-join",
        "channelId": "test",
        "serviceUrl": service_url,
        "conversation": {"id": conversation},
        "recipient": {"id": "bot-1", "name": "Bot"},
        "membersAdded": [
            {"id": "bot-1", "name": "Bot"},
            {"id": f"{conversation}-user", "name": "Ann"},
        ],
    }


async def _talk(
    http: aiohttp.ClientSession, gateway: str, conversation: str, service_url: str
) -> None:
    """One user's conversation: a join, then messages posted one after another."""
    activities = [_join(conversation, service_url)] + [
        message(
            f"{conversation} #{n}",
            activity_id=f"{conversation}-{n}",
            conversation=conversation,
            service_url=service_url,
            user=f"{conversation}-user",
        )
        for n in range(MESSAGES)
    ]
    for activity in activities:
        async with http.post(
            f"{gateway}/api/messages",
            data=orjson.dumps(activity),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 202, await response.text()


async def test_echo_bot_end_to_end(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, echo, concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        names = [f"conv-{i}" for i in range(CONVERSATIONS)]
        await asyncio.gather(*(_talk(http, gateway, name, service_url) for name in names))
        received = await dev.wait_for(CONVERSATIONS * (MESSAGES + 1), within=20)
    stop.set()
    consumer = await worker

    assert len(received) == CONVERSATIONS * (MESSAGES + 1)
    assert consumer.turns_done == CONVERSATIONS * (MESSAGES + 1)
    for name in names:
        replies = [r for r in received if r.conversation_id == name]
        welcome, *echoes = replies
        assert welcome.method == "POST"
        # As in the SDK, a conversation update is not replied to: the welcome goes to the
        # conversation (a channel would refuse a reply to the join).
        assert welcome.path == f"/v3/conversations/{name}/activities"
        assert welcome.body == {
            "type": "message",
            "text": "welcome Ann",
            "inputHint": "acceptingInput",
            "from": {"id": "bot-1", "name": "Bot"},
            "conversation": {"id": name},
            "channelId": "test",
        }
        assert [r.activity_id for r in echoes] == [f"{name}-{n}" for n in range(MESSAGES)]
        for n, reply in enumerate(echoes):
            assert reply.path == f"/v3/conversations/{name}/activities/{name}-{n}"
            assert reply.body == {
                "type": "message",
                "text": f"Echo: {name} #{n}",
                "inputHint": "acceptingInput",
                "from": {"id": "bot-1", "name": "Bot"},
                "recipient": {"id": f"{name}-user", "name": f"{name}-user name"},
                "conversation": {"id": name},
                "channelId": "test",
                "replyToId": f"{name}-{n}",
                "locale": "en-US",
            }
    assert await pending_count(redis, keys) == 0
