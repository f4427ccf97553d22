"""The gateway's slot-routed RESP batches on the local cluster, and WAIT-based durability."""

from __future__ import annotations

import asyncio

import pytest

from gateway.enqueue_pool import open_enqueue_pool
from shared.redis.cluster_resp import SLOTS, ClusterRespPool, command_slot
from shared.redis.resp import Durability, Endpoint, NotDurable, Pooled, RespPool
from shared.redis.resp_pipeline import Pipelined
from shared.redis.resp_pools import open_pipelined_pool
from shared.redis.url import parse_target
from shared.settings import AckDurability, Settings
from turnstream.embedded_cluster import EmbeddedCluster


def _seeds(url: str) -> list[Endpoint]:
    return [Endpoint(host=h, port=p) for h, p in parse_target(url).nodes]


def test_a_script_call_is_routed_by_its_first_key() -> None:
    assert command_slot(("EVALSHA", "abc", 3, "p:{7}:in", "p:{7}:seen", "p:{7}:last")) == (
        command_slot(("GET", "{7}"))
    )
    assert command_slot(("SCRIPT", "LOAD", "return 1")) is None
    assert command_slot(("EVAL", "return 1", 0)) is None


async def test_a_batch_spanning_every_master_comes_back_in_order(cluster: EmbeddedCluster) -> None:
    pool = ClusterRespPool(_seeds(cluster.url), servers=Pooled(4))
    try:
        keys = [f"resp-test:{{{n}}}" for n in range(30)]
        assert await pool.execute([("SET", key, key) for key in keys]) == [b"OK"] * 30
        assert await pool.execute([("GET", key) for key in keys]) == [k.encode() for k in keys]
    finally:
        await pool.aclose()


async def test_moved_refreshes_the_map_and_sends_again(cluster: EmbeddedCluster) -> None:
    pool = ClusterRespPool(_seeds(cluster.url), servers=Pooled(4))
    try:
        await pool.execute([("SET", "resp-moved:{1}", "x")])
        # A stale map (as after a failover or resharding): every slot on one master.
        pool._owners = [pool._owners[0]] * SLOTS
        keys = [f"resp-moved:{{{n}}}" for n in range(12)]
        replies = await pool.execute([("SET", key, "y") for key in keys])
        assert replies == [b"OK"] * 12
        assert pool.refreshes == 2
        assert len(set(pool._owners)) == 3
    finally:
        await pool.aclose()


async def test_script_load_reaches_every_master(cluster: EmbeddedCluster) -> None:
    pool = ClusterRespPool(_seeds(cluster.url), servers=Pooled(4))
    try:
        (sha,) = await pool.execute([("SCRIPT", "LOAD", "return 7")])
        keys = [f"resp-script:{{{n}}}" for n in range(12)]
        replies = await pool.execute([("EVALSHA", sha, 1, key) for key in keys])
        assert replies == [7] * 12
    finally:
        await pool.aclose()


async def test_wait_for_a_replica_on_the_cluster(cluster: EmbeddedCluster) -> None:
    """Each master has one replica: WAIT 1 succeeds; WAIT 2 cannot, and fails the batch."""
    one = ClusterRespPool(_seeds(cluster.url), servers=Pooled(2, Durability(1, 500)))
    two = ClusterRespPool(_seeds(cluster.url), servers=Pooled(2, Durability(2, 50)))
    try:
        assert await one.execute([("SET", "resp-wait:{1}", "x")]) == [b"OK"]
        (failed,) = await two.execute([("SET", "resp-wait:{1}", "y")])
        assert isinstance(failed, NotDurable)
        assert "1 of 2 replicas" in str(failed)
    finally:
        await one.aclose()
        await two.aclose()


async def test_without_replicas_a_durable_batch_fails(redis_url: str) -> None:
    pool = RespPool(
        Endpoint.from_url(redis_url), max_connections=1, durability=Durability(1, 20, aof=True)
    )
    try:
        with pytest.raises(NotDurable, match="0 of 1 replicas"):
            await pool.execute([("SET", "resp-wait-single", "x")])
    finally:
        await pool.aclose()


async def test_the_worker_pipelines_its_batches_to_each_master(cluster: EmbeddedCluster) -> None:
    pool = open_pipelined_pool(Settings(redis_url=cluster.url), timeout_seconds=5)
    assert isinstance(pool, ClusterRespPool) and pool.servers == Pipelined(5)
    try:
        keys = [f"resp-pipelined:{{{n}}}" for n in range(30)]
        batches = [pool.execute([("SET", key, key), ("GET", key)]) for key in keys]
        replies = await asyncio.gather(*batches)
        assert replies == [[b"OK", key.encode()] for key in keys]
        assert len(pool._pools) == 3  # one pipelined connection per master
    finally:
        await pool.aclose()


def test_the_gateway_picks_the_pool_for_the_topology(cluster: EmbeddedCluster) -> None:
    settings = Settings(redis_url=cluster.url, ack_durability=AckDurability.REPLICA_AOF)
    pool = open_enqueue_pool(settings)
    assert isinstance(pool, ClusterRespPool)
    assert pool.servers == Pooled(64, Durability(1, 500, aof=True))
    single = open_enqueue_pool(Settings(redis_url="redis://127.0.0.1:6379/0"))
    assert isinstance(single, RespPool)
