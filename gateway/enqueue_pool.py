"""The connections the enqueue hot path writes on, for the topology `REDIS_URL` names: one
server (`RespPool`), a Redis Cluster (`ClusterRespPool`, routed by slot) or a Sentinel-managed
primary (`SentinelRespPool`); each optionally waiting for replicas (`TURNSTREAM_ACK_DURABILITY`)."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from shared.cluster_resp import ClusterRespPool
from shared.redis_url import Topology, parse_target, topology
from shared.resp import Command, Durability, Endpoint, RespPool
from shared.sentinel_resp import SentinelRespPool
from shared.settings import AckDurability, Settings


class EnqueuePool(Protocol):
    async def execute(self, commands: Sequence[Command]) -> list[Any]: ...

    async def aclose(self) -> None: ...


def durability(settings: Settings) -> Durability | None:
    """WAIT/WAITAOF for every batch, bounded well inside the enqueue timeout, so that a replica
    that does not confirm in time yields a 503 rather than a timeout."""
    if settings.ack_durability is AckDurability.NONE:
        return None
    timeout_ms = max(10, int(settings.redis_timeout_seconds * 1000 / 2))
    aof = settings.ack_durability is AckDurability.REPLICA_AOF
    return Durability(settings.ack_replicas, timeout_ms, aof=aof)


def open_enqueue_pool(settings: Settings) -> EnqueuePool:
    url = settings.redis_url
    if not url:
        raise ValueError("no Redis URL: set REDIS_URL")
    wait = durability(settings)
    size = settings.redis_max_connections
    kind = topology(url)
    if kind is Topology.SINGLE:
        return RespPool(Endpoint.from_url(url), max_connections=size, durability=wait)
    target = parse_target(url)
    template = Endpoint(
        username=target.username, password=target.password, db=target.db, tls=_tls(target.tls)
    )
    if kind is Topology.CLUSTER:
        seeds = [dataclasses.replace(template, host=h, port=p) for h, p in target.nodes]
        return ClusterRespPool(seeds, max_connections=size, durability=wait)
    return SentinelRespPool(
        target.nodes, target.service, template, max_connections=size, durability=wait
    )


def _tls(enabled: bool) -> ssl.SSLContext | None:
    return ssl.create_default_context() if enabled else None
