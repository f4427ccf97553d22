"""Fixtures: one real Redis-compatible server per session (per xdist worker), a fresh key prefix
per test, a recording Bot Connector. Helpers live in tests/support/. The order the tests start
in: the long ones first (decision 0021)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis, connect
from shared.redis.resp_pools import RespExecutor, open_pipelined_pool
from shared.settings import Settings
from tests.support.http import serving
from turnstream.devconnector import DevConnector
from turnstream.embedded import EmbeddedRedis


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, then the other e2e tests, then the rest, each group in collection order
    (a stable sort keeps a module's tests together). The suite runs in parallel processes
    (pytest-xdist, one test handed out at a time): a ten-second test started last would leave
    the other processes idle while it runs; started first, the short tests fill in beside it."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow"):
            return 0
        return 1 if item.get_closest_marker("e2e") else 2

    items.sort(key=rank)


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
    """The pipelined RESP connection the worker sends its scripts on."""
    pool = open_pipelined_pool(settings, timeout_seconds=10)
    yield pool
    await pool.aclose()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[DevConnector, str]]:
    """A recording Bot Connector on loopback: (connector, its serviceUrl)."""
    dev = DevConnector(echo_log=False)
    async with serving(dev.app) as url:
        yield dev, url
