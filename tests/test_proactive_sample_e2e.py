"""The proactive-messages sample (samples/proactive_messages.py, after botbuilder's
16.proactive-messages) through the real gateway and two worker processes: users talk, the
operator calls the bot's own route `/api/notify`, and every conversation the bot remembers gets
"proactive hello" — from a lambda, as the SDK's sample writes it — in order with that
conversation's turns, at a recording Bot Connector."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.recording_connector import RecordingConnector

pytestmark = pytest.mark.e2e

SECRET = "n" * 40
USERS = [f"user-{n}" for n in range(12)]


@dataclasses.dataclass
class Stack:
    gateway: str
    service_url: str
    connector: RecordingConnector
    http: aiohttp.ClientSession

    async def say(self, user: str, text: str) -> None:
        activity = message(
            text,
            activity_id=f"{user}-{text}",
            conversation=f"conversation-of-{user}",
            service_url=self.service_url,
            user=user,
        )
        async with self.http.post(
            f"{self.gateway}/api/messages",
            data=orjson.dumps(activity),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 202

    def texts(self, conversation: str) -> list[str]:
        path = f"/v3/conversations/{conversation}/activities"
        return [r.body["text"] for r in self.connector.requests if r.raw_path.startswith(path)]

    async def received(self, count: int) -> None:
        for _ in range(1500):  # 30 s at most
            if len(self.connector.requests) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.connector.requests)} requests of {count} arrived")


@pytest.fixture
async def stack(settings: Settings, redis: Redis, keys: Keyspace) -> AsyncIterator[Stack]:
    connector = RecordingConnector(default={"id": "sent"})
    workers = await start_workers(worker_env(settings), "samples.proactive_messages:bot", 2)
    turns: list[int] = []
    try:
        for _ in range(600):  # both read (each its share of the shards) before the first turn
            if await redis.zcard(keys.readers()) == 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the workers did not start reading")
        async with (
            serving(connector.app) as service_url,
            serving(create_app(dataclasses.replace(settings, proactive_secret=SECRET))) as gateway,
            aiohttp.ClientSession() as http,
        ):
            yield Stack(gateway, f"{service_url}/", connector, http)
    finally:
        for stderr in await stop_processes(workers):
            assert "Traceback" not in stderr, stderr
            turns.append(int(re.findall(r"stopped: (\d+) turns done", stderr)[-1]))
    assert min(turns) > 0, f"one worker ran every turn: {turns}"


async def notify(stack: Stack, method: str = "GET", secret: str | None = SECRET) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    # The workers publish their routes as they start: the gateway serves the path once it read
    # the table (it reads it again every two seconds).
    for _ in range(200):
        async with stack.http.request(
            method, f"{stack.gateway}/api/notify", headers=headers
        ) as response:
            if response.status != 404:
                return response.status, await response.text()
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never served /api/notify")


async def test_notify_sends_proactive_hello_to_every_remembered_conversation_in_order(
    stack: Stack,
) -> None:
    for user in USERS:
        await stack.say(user, "hi")
    await stack.received(len(USERS))  # each reply comes after its reference was stored

    refused = await notify(stack, secret="wrong")
    status, text = await notify(stack)
    for user in USERS:  # after the notify: queued behind the proactive turns
        await stack.say(user, "bye")
    await stack.received(3 * len(USERS))
    await asyncio.sleep(0.5)  # nothing more arrives (no proactive turn runs twice)

    assert refused[0] == 401
    assert (status, text) == (200, "Proactive messages have been sent")
    for user in USERS:
        assert stack.texts(f"conversation-of-{user}") == [
            "You sent: hi",
            "proactive hello",
            "You sent: bye",
        ], user
    assert len(stack.connector.requests) == 3 * len(USERS)
