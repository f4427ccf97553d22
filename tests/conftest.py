"""Fixtures: one real Redis-compatible server per session, a fresh key prefix per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from redis.exceptions import ResponseError
from starlette.types import ASGIApp

from gateway.edge import EdgeLimits
from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from gateway.server import EmbeddedServer, server_config
from shared.embedded import EmbeddedRedis, free_port
from shared.envelope import Envelope
from shared.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace, conversation_key
from shared.redisconn import Redis, connect
from shared.resp_pools import RespExecutor, open_resp_pool
from shared.settings import Settings
from turnstream.devconnector import DevConnector


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL if set, else an embedded valkey-server started for this session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    with EmbeddedRedis(appendonly=False) as server:
        yield server.url


@pytest.fixture
def settings(redis_url: str) -> Settings:
    """Settings with a key prefix of its own, so tests never see each other's keys."""
    return Settings(
        redis_url=redis_url,
        key_prefix=f"test-{uuid.uuid4().hex[:12]}",
        shards=4,
        drain_timeout_seconds=5,
        allow_private_service_urls=True,  # the tests' connectors listen on 127.0.0.1
        # Tests count what reaches their connectors; the typing tests turn it on themselves.
        typing_while_queued_seconds=0,
    )


@pytest.fixture
def keys(settings: Settings) -> Keyspace:
    return Keyspace(settings.key_prefix, settings.shards)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = connect(settings)
    yield client
    await client.aclose()


@pytest.fixture
async def scripts(settings: Settings) -> AsyncIterator[RespExecutor]:
    """Plain RESP connections, as the worker sends its scripts on."""
    pool = open_resp_pool(settings, timeout_seconds=10)
    yield pool
    await pool.aclose()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, limits: EdgeLimits | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in this event loop; yield its URL."""
    port = free_port()
    server = EmbeddedServer(server_config(app, "127.0.0.1", port, limits))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def post_json(
    http: aiohttp.ClientSession, url: str, body: Any, **headers: str
) -> tuple[int, Any]:
    """POST `body` as JSON; the status and the parsed answer (None for an empty body)."""
    async with http.post(
        url, data=orjson.dumps(body), headers={"Content-Type": "application/json", **headers}
    ) as response:
        raw = await response.read()
        return response.status, orjson.loads(raw) if raw else None


async def start_workers(
    env: dict[str, str], bot: str, count: int, *options: str
) -> list[asyncio.subprocess.Process]:
    """`count` worker processes of `bot` (`python -m worker`), stderr piped for
    `stop_processes`."""
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            "--bot",
            bot,
            *options,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]


async def stop_processes(processes: list[asyncio.subprocess.Process]) -> list[str]:
    """SIGTERM every process still running (one that already exited, crashed say, is skipped
    rather than raising and leaving the others behind) and return each one's stderr."""
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    return [(await process.communicate())[1].decode() for process in processes]


async def stream_lengths(redis: Redis, keys: Keyspace) -> int:
    """Entries across every shard stream of a keyspace."""
    total = 0
    for stream in keys.streams():
        total += await redis.xlen(stream)
    return total


async def envelopes_in(redis: Redis, stream: str) -> list[Envelope]:
    """Every envelope in a stream, oldest first."""
    entries: Any = await redis.xrange(stream)
    return [Envelope.decode(fields[ENVELOPE_FIELD.encode()]) for _id, fields in entries]


async def enqueue(redis: Redis, keys: Keyspace, activity: dict[str, Any]) -> str:
    """Append an activity to its shard stream with the gateway's own script (chained after the
    conversation's previous entry; no dedupe)."""
    conversation = conversation_key(activity["channelId"], activity["conversation"]["id"])
    envelope = Envelope(orjson.dumps(activity), conversation, time.time())
    entry_id: Any = await redis.eval(
        ENQUEUE_SCRIPT, ENQUEUE_KEYS, *enqueue_arguments(keys, conversation, envelope.encode())
    )
    return str(entry_id.decode())


async def pending_count(redis: Redis, keys: Keyspace) -> int:
    """Entries delivered to a consumer and not acknowledged, across every shard."""
    total = 0
    for stream in keys.streams():
        try:
            summary: Any = await redis.xpending(stream, CONSUMER_GROUP)
        except ResponseError as e:  # no worker has created the group yet
            assert "NOGROUP" in str(e)
            continue
        total += summary["pending"]
    return total


@pytest.fixture
async def connector() -> AsyncIterator[tuple[DevConnector, str]]:
    """A recording Bot Connector on loopback: (connector, its serviceUrl)."""
    dev = DevConnector(echo_log=False)
    async with serving(dev.app) as url:
        yield dev, url
