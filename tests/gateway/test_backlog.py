"""Backpressure: over the backlog limit the gateway refuses with 503 instead of queueing more."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import orjson

from gateway.app import create_app
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import enqueue, stream_lengths


async def answers(base: str) -> tuple[int, int, str | None]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/readyz") as ready:
            ready_status = ready.status
        async with http.post(
            f"{base}/api/messages",
            data=orjson.dumps(message("more", activity_id=None)),
            headers={"Content-Type": "application/json"},
        ) as response:
            return ready_status, response.status, response.headers.get("Retry-After")


async def test_over_the_backlog_limit_new_work_is_refused_until_workers_catch_up(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    for n in range(5):  # no worker is reading
        await enqueue(redis, keys, message(f"m{n}", activity_id=str(n)))
    limited = dataclasses.replace(settings, max_backlog=3)
    async with serving(create_app(limited)) as base:
        for _ in range(40):  # the monitor polls once a second
            if (await answers(base))[1] == 503:
                break
            await asyncio.sleep(0.1)
        queued = await stream_lengths(redis, keys)
        for _ in range(3):  # while refusing, nothing is written
            assert await answers(base) == (503, 503, "1")
        assert await stream_lengths(redis, keys) == queued

        for stream in keys.streams():  # a worker catches up
            await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
            await redis.xreadgroup(CONSUMER_GROUP, "w", {stream: ">"})
        for _ in range(40):
            if (await answers(base))[1] == 202:
                break
            await asyncio.sleep(0.1)
        assert (await answers(base))[:2] == (200, 202)
