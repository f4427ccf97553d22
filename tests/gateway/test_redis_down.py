"""With Redis gone the gateway answers 503 + Retry-After fast, and never hangs."""

from __future__ import annotations

import dataclasses
import os
import signal
import time

import aiohttp
import orjson

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import stream_lengths
from turnstream.embedded import EmbeddedRedis, free_port


async def _probe(base: str) -> list[tuple[str, int, str | None, float]]:
    results = []
    async with aiohttp.ClientSession() as http:
        for method, path, body in (
            ("GET", "/readyz", None),
            ("POST", "/api/messages", message("hi")),
        ):
            started = time.monotonic()
            async with http.request(
                method,
                f"{base}{path}",
                data=orjson.dumps(body) if body else None,
                headers={"Content-Type": "application/json"},
            ) as response:
                await response.read()
                results.append(
                    (
                        path,
                        response.status,
                        response.headers.get("Retry-After"),
                        time.monotonic() - started,
                    )
                )
    return results


async def test_no_server_listening_gives_503_within_a_second(settings: Settings) -> None:
    dead = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with serving(create_app(dead)) as base:
        results = await _probe(base)
    for path, status, retry_after, elapsed in results:
        assert (path, status, retry_after) == (path, 503, "1")
        assert elapsed < 1.0, f"{path} took {elapsed:.2f}s"


async def test_server_killed_then_paused_gives_503_then_recovers(settings: Settings) -> None:
    with EmbeddedRedis(appendonly=False) as server:
        own = dataclasses.replace(settings, redis_url=server.url, redis_timeout_seconds=0.5)
        async with serving(create_app(own)) as base:
            assert [r[1] for r in await _probe(base)] == [200, 202]
            assert server.pid is not None
            os.kill(server.pid, signal.SIGSTOP)  # a hung server: connections open, no answers
            try:
                paused = await _probe(base)
            finally:
                os.kill(server.pid, signal.SIGCONT)
            assert [r[1] for r in paused] == [503, 503]
            assert all(r[3] < 1.0 for r in paused), paused
            assert [r[1] for r in await _probe(base)] == [200, 202]  # back once it answers again


async def test_a_flushed_script_cache_is_reloaded(settings: Settings, redis: Redis) -> None:
    async with serving(create_app(settings)) as base:
        assert [r[1] for r in await _probe(base)] == [200, 202]
        await redis.script_flush()
        activity = message("again", activity_id="2")
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response,
        ):
            assert response.status == 202
    assert await stream_lengths(redis, Keyspace(settings.key_prefix, settings.shards)) == 2
