"""Strict per-conversation order across worker processes: messages fired at the gateway as
fast as it takes them, two workers, and every conversation's replies must be 1, 2, ..., M."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import orjson
import pytest
from redis.exceptions import ResponseError

from gateway.app import create_app
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e

CONVERSATIONS = 8
MESSAGES = 12


async def test_two_workers_keep_every_conversation_in_order(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    workers = await start_workers(
        worker_env(settings), "samples.counter:bot", 2, "--concurrency", "4"
    )
    try:
        for _ in range(300):  # both workers are reading before anything is sent
            if await _consumers(redis, keys) == 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the two workers did not join the group")
        async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:

            async def talk(conversation: str) -> None:
                for n in range(MESSAGES):  # no waiting for replies: back to back
                    activity = message(
                        f"m{n}",
                        activity_id=f"{conversation}-{n}",
                        conversation=conversation,
                        service_url=service_url,
                    )
                    async with http.post(
                        f"{gateway}/api/messages",
                        data=orjson.dumps(activity),
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        assert response.status == 202

            await asyncio.gather(*(talk(f"c{i}") for i in range(CONVERSATIONS)))
            await dev.wait_for(CONVERSATIONS * MESSAGES, within=60)
    finally:
        logs = await stop_processes(workers)

    for i in range(CONVERSATIONS):
        replies = [a for a in dev.activities() if a["conversation"]["id"] == f"c{i}"]
        assert [r["text"] for r in replies] == [str(n + 1) for n in range(MESSAGES)], i
        assert [r["replyToId"] for r in replies] == [f"c{i}-{n}" for n in range(MESSAGES)]
    assert len(dev.activities()) == CONVERSATIONS * MESSAGES  # no duplicates
    assert await pending_count(redis, keys) == 0
    turns = [int(re.findall(r"stopped: (\d+) turns done", log)[-1]) for log in logs]
    assert sum(turns) == CONVERSATIONS * MESSAGES and min(turns) > 0, turns


async def _consumers(redis: Redis, keys: Keyspace) -> int:
    try:
        return len(await redis.xinfo_consumers(keys.stream(0), CONSUMER_GROUP))
    except ResponseError:  # no worker has created the stream and group yet
        return 0
