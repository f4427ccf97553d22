"""Bot state through the real path: gateway -> Redis Streams -> worker(s) -> connector, with
RedisStorage on the real server."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from samples.state_management import create_app as state_bot
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import worker_env
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.redis_storage import RedisStorage
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

SAY = [("c1", "hi"), ("c1", "Ann"), ("c1", "hello"), ("c2", "from elsewhere")]


async def test_state_management_transcript_through_the_gateway(
    settings: Settings, redis: Redis, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    app = state_bot(RedisStorage(redis, key_prefix=settings.key_prefix))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, app, handle_signals=False, stop=stop))
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        for n, (conversation, text) in enumerate(SAY):
            if conversation == "c2":  # conversations run concurrently: let c1 finish first
                await dev.wait_for(5, within=20)
            activity = message(
                text, activity_id=str(n), conversation=conversation, service_url=service_url
            )
            activity["timestamp"] = "2026-11-21T08:00:00Z"
            async with http.post(
                f"{gateway}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response:
                assert response.status == 202
        await dev.wait_for(8, within=20)
    stop.set()
    await worker

    texts = [(a["conversation"]["id"], a["text"]) for a in dev.activities()]
    assert [t for t in texts if not t[1].startswith("Message received at:")] == [
        ("c1", "What is your name?"),
        ("c1", "Thanks Ann. To see conversation data, type anything."),
        ("c1", "Ann sent: hello"),
        ("c1", "Message received from: test"),
        ("c2", "Ann sent: from elsewhere"),  # user state follows the user to a new conversation
        ("c2", "Message received from: test"),
    ]
    assert sum(t[1].startswith("Message received at: 2026-11-21") for t in texts) == 2


async def run_burst_worker(settings: Settings, bot: str, *extra: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "--bot",
        bot,
        "--burst",
        *extra,
        env=worker_env(settings),
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(40):
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_state_survives_a_worker_restart(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector

    async def say(n: int, text: str) -> None:
        await enqueue(redis, keys, message(text, activity_id=str(n), service_url=service_url))

    await say(0, "hi")
    await say(1, "Bob")
    await run_burst_worker(settings, "samples.state_management:bot")
    await say(2, "still there?")
    await run_burst_worker(settings, "samples.state_management:bot")  # a new process

    texts = [a["text"] for a in dev.activities()]
    assert texts[:3] == [
        "What is your name?",
        "Thanks Bob. To see conversation data, type anything.",
        "Bob sent: still there?",
    ]
    assert await pending_count(redis, keys) == 0


async def test_two_worker_processes_lose_no_update_of_one_users_state(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    turns = 40
    for n in range(turns):  # one user, many conversations: turns run at once on both workers
        await enqueue(
            redis,
            keys,
            message("+1", activity_id=f"m{n}", conversation=f"c{n}", service_url=service_url),
        )

    logs = await asyncio.gather(
        run_burst_worker(settings, "tests.support.bots:counter", "--concurrency", "4"),
        run_burst_worker(settings, "tests.support.bots:counter", "--concurrency", "4"),
    )

    stored: Any = await RedisStorage(redis, key_prefix=settings.key_prefix).read(
        ["test/users/user-1"]
    )
    assert stored["test/users/user-1"]["count"] == turns, "".join(logs)[-4000:]
    replies = dev.activities()
    assert sorted(r["replyToId"] for r in replies) == sorted(f"m{n}" for n in range(turns))
    assert "running it again" in "".join(logs)  # the workers really collided
    assert await pending_count(redis, keys) == 0
