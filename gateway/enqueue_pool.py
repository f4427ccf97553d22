"""The connections the enqueue hot path writes on (shared/redis/resp_pools.py), each batch
optionally waiting for replicas (`TURNSTREAM_ACK_DURABILITY`)."""

from __future__ import annotations

from shared.redis.resp import Durability
from shared.redis.resp_pools import RespExecutor, open_resp_pool
from shared.settings import AckDurability, Settings

EnqueuePool = RespExecutor


def durability(settings: Settings) -> Durability | None:
    """WAIT/WAITAOF for every batch, bounded well inside the enqueue timeout, so that a replica
    that does not confirm in time yields a 503 rather than a timeout."""
    if settings.ack_durability is AckDurability.NONE:
        return None
    timeout_ms = max(10, int(settings.redis_timeout_seconds * 1000 / 2))
    aof = settings.ack_durability is AckDurability.REPLICA_AOF
    return Durability(settings.ack_replicas, timeout_ms, aof=aof)


def open_enqueue_pool(settings: Settings) -> EnqueuePool:
    return open_resp_pool(settings, durability=durability(settings))
