"""A local Redis Cluster (3 masters, 1 replica each) shared by the cluster tests of a session;
tests that kill a node start their own (tests/cluster/test_failover.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis, connect
from shared.redis.resp_pools import RespExecutor, open_pipelined_pool
from shared.settings import Settings
from turnstream.embedded_cluster import EmbeddedCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(masters=3, replicas_per_master=1, appendonly=False) as started:
        yield started


@pytest.fixture
def cluster_settings(cluster: EmbeddedCluster) -> Settings:
    """Settings on the cluster, with a key prefix of its own (16 shards: all masters get some)."""
    return Settings(
        redis_url=cluster.url,
        key_prefix=f"test-{uuid.uuid4().hex[:12]}",
        shards=16,
        drain_timeout_seconds=5,
        allow_private_service_urls=True,
        typing_while_queued_seconds=0,  # replies are counted; a typing is not one
    )


@pytest.fixture
def cluster_keys(cluster_settings: Settings) -> Keyspace:
    return Keyspace(cluster_settings.key_prefix, cluster_settings.shards, cluster=True)


@pytest.fixture
async def cluster_redis(cluster_settings: Settings) -> AsyncIterator[Redis]:
    client = connect(cluster_settings)
    yield client
    await client.aclose()


@pytest.fixture
async def cluster_scripts(cluster_settings: Settings) -> AsyncIterator[RespExecutor]:
    """The pipelined RESP connections to the cluster the worker sends its scripts on."""
    pool = open_pipelined_pool(cluster_settings, timeout_seconds=10)
    yield pool
    await pool.aclose()
