"""The one way turnstream opens Redis: a bounded pool, bounded timeouts, logged outages."""

from __future__ import annotations

import logging
import math
import random
import time
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisClusterException, RedisError

from shared.redis.url import RedisTarget, Topology, parse_target, redacted, topology
from shared.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["OutageLog", "Redis", "connect", "is_cluster", "redacted", "subscriber"]

Redis = aioredis.Redis
"""The client type callers hold. A cluster client (`RedisCluster`) is handed out under this name
too: it offers the same command methods and pipelines, and routes each command by its key;
callers that must know (multi-stream reads) ask `is_cluster`."""


def connect(
    settings: Settings, *, read_block_seconds: float = 0.0, url: str | None = None
) -> Redis:
    """A client on a pool that waits for a free connection instead of raising past its size.

    `read_block_seconds` widens the socket timeout for callers that issue blocking reads
    (XREADGROUP BLOCK), so a quiet stream is not mistaken for a dead server.
    """
    target = url or settings.redis_url
    if not target:
        raise ValueError("no Redis URL: set REDIS_URL")
    kind = topology(target)
    if kind is Topology.CLUSTER:
        return _cluster(parse_target(target), settings, read_block_seconds)
    if kind is Topology.SENTINEL:
        return _sentinel(parse_target(target), settings, read_block_seconds)
    timeout = settings.redis_timeout_seconds
    pool = aioredis.BlockingConnectionPool.from_url(
        target,
        max_connections=settings.redis_max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout + read_block_seconds,
        socket_keepalive=True,
        health_check_interval=30,
        # One quick retry absorbs a connection the server closed while idle; longer outages
        # surface to the caller, which answers 503 (gateway) or backs off (worker).
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=1),
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes both


def is_cluster(redis: Redis) -> bool:
    """True for a Redis Cluster client: multi-key commands must stay inside one slot."""
    # Remembered per client class: redis-py's client classes derive from typing.Protocol, whose
    # isinstance goes through `_ProtocolMeta` (~0.5 µs; asked several times a stateful turn).
    kind = type(redis)
    found = _CLUSTER_CLASSES.get(kind)
    if found is None:
        found = _CLUSTER_CLASSES[kind] = isinstance(redis, RedisCluster)
    return found


_CLUSTER_CLASSES: dict[type, bool] = {}


async def subscriber(redis: Redis) -> Redis:
    """A client to SUBSCRIBE with: `redis` itself, or, for a cluster (whose client has no
    working pub/sub), a plain client to one of its nodes chosen at random — a PUBLISH on any
    node of a cluster reaches the subscribers of every node. Close it when it is not `redis`."""
    if not isinstance(redis, RedisCluster):
        return redis
    await redis.initialize()
    node = random.choice(redis.get_nodes())
    options = {
        k: v
        for k, v in redis.get_connection_kwargs().items()
        if k in ("username", "password", "socket_timeout", "socket_connect_timeout", "ssl")
    }
    return aioredis.Redis(host=node.host, port=node.port, **options)


def decodes_responses(redis: Redis) -> bool:
    """Whether the client turns replies into str (turnstream's stores need bytes)."""
    if isinstance(redis, RedisCluster):
        options = redis.get_connection_kwargs()
    else:
        options = redis.connection_pool.connection_kwargs
    return bool(options.get("decode_responses"))


class ClusterUnavailable(RedisError):
    """A cluster client error that is not a `RedisError` (no node serves a slot, mid-failover),
    turned into one so that every caller's Redis error handling covers it."""


class _ClusterPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        try:
            return await super().execute(raise_on_error, allow_redirections)
        except RedisClusterException as e:
            raise ClusterUnavailable(str(e)) from e


class _RedisCluster(RedisCluster):
    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_command(*args, **kwargs)
        except RedisClusterException as e:
            raise ClusterUnavailable(str(e)) from e

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        if shard_hint:
            raise ValueError("shard_hint is not supported in cluster mode")
        return _ClusterPipeline(self, transaction)  # type: ignore[abstract]


def _cluster(target: RedisTarget, settings: Settings, read_block_seconds: float) -> Redis:
    timeout = settings.redis_timeout_seconds
    client = _RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
        username=target.username,
        password=target.password,
        ssl=target.tls,
        socket_connect_timeout=timeout,
        socket_timeout=timeout + read_block_seconds,
        socket_keepalive=True,
        # Per master. The cluster client's node pools raise past their size instead of waiting,
        # so they get more room than the blocking single-server pool; callers bound concurrency.
        max_connections=max(settings.redis_max_connections, 256),
        # A master that died: the client refreshes the slot map and retries (twice), bounded so
        # that callers see the error within a few timeouts instead of waiting for the failover.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=2),
    )
    return cast(Redis, client)


class BlockingSentinelPool(SentinelConnectionPool, aioredis.BlockingConnectionPool):
    """The Sentinel pool (asks the Sentinels where the primary is, follows failover) with the
    blocking pool's behaviour: wait for a free connection rather than raise past the size."""


class SentinelRedis(aioredis.Redis):
    """The client of a Sentinel-managed primary; closing it also closes its Sentinel clients."""

    sentinel_manager: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel_manager is not None:
            for client in self.sentinel_manager.sentinels:
                await client.aclose()


def _sentinel(target: RedisTarget, settings: Settings, read_block_seconds: float) -> Redis:
    timeout = settings.redis_timeout_seconds
    sentinel = Sentinel(
        list(target.nodes),
        sentinel_kwargs={"socket_timeout": timeout, "socket_connect_timeout": timeout},
    )
    options: dict[str, Any] = {
        "username": target.username,
        "password": target.password,
        "db": target.db,
        "ssl": target.tls,
        "max_connections": settings.redis_max_connections,
        "timeout": timeout,
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout + read_block_seconds,
        "socket_keepalive": True,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=1),
    }
    client: SentinelRedis = sentinel.master_for(
        target.service,
        redis_class=SentinelRedis,
        connection_pool_class=BlockingSentinelPool,
        **options,
    )
    client.sentinel_manager = sentinel
    return client


class OutageLog:
    """Logs the first failure of an outage and the recovery, not every failed call in between."""

    def __init__(self, what: str) -> None:
        self._what = what
        self.failures = 0
        """Failed calls since the last success: 0 means up."""
        self.last_failure_at = -math.inf
        """`time.monotonic()` of the latest failure."""

    def failed(self, error: BaseException) -> None:
        self.last_failure_at = time.monotonic()
        if not self.failures:
            log.warning("%s unreachable: %s: %s", self._what, type(error).__name__, error)
        self.failures += 1

    def succeeded(self) -> None:
        if self.failures:
            log.warning("%s reachable again after %d failed calls", self._what, self.failures)
            self.failures = 0

    @property
    def down(self) -> bool:
        return self.failures > 0
