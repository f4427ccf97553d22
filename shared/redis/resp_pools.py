"""Plain RESP connections (decision 0004) for the topology `REDIS_URL` names: one server, a
Redis Cluster (`ClusterRespPool`, routed by slot) or a Sentinel-managed primary
(`SentinelRespPool`). The gateway's enqueue sends on a pool of connections per server
(`RespPool`); the worker's per-turn scripts on one pipelined connection per server
(`PipelinedRespPool`, decision 0026)."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from shared.redis.cluster_resp import ClusterRespPool
from shared.redis.resp import Command, Durability, Endpoint, Pooled, ServerPools
from shared.redis.resp_pipeline import Pipelined
from shared.redis.sentinel_resp import SentinelRespPool
from shared.redis.url import Topology, parse_target, topology
from shared.settings import Settings


class RespExecutor(Protocol):
    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, error replies (`ReplyError`, `RespError`) in place."""
        ...

    async def aclose(self) -> None: ...


def open_resp_pool(settings: Settings, *, durability: Durability | None = None) -> RespExecutor:
    """The gateway's enqueue connections: up to `TURNSTREAM_REDIS_MAX_CONNECTIONS` per server,
    each carrying one batch at a time (the gateway bounds its batches in time itself)."""
    return _open(settings, Pooled(settings.redis_max_connections, durability))


def open_pipelined_pool(settings: Settings, *, timeout_seconds: float) -> RespExecutor:
    """The worker's script connection: one per server, the batches of a loop iteration written
    together; a batch not answered within `timeout_seconds` fails with TimeoutError."""
    return _open(settings, Pipelined(timeout_seconds))


def _open(settings: Settings, servers: ServerPools) -> RespExecutor:
    url = settings.redis_url
    if not url:
        raise ValueError("no Redis URL: set REDIS_URL")
    kind = topology(url)
    if kind is Topology.SINGLE:
        return servers(Endpoint.from_url(url))
    target = parse_target(url)
    template = Endpoint(
        username=target.username, password=target.password, db=target.db, tls=_tls(target.tls)
    )
    if kind is Topology.CLUSTER:
        seeds = [dataclasses.replace(template, host=h, port=p) for h, p in target.nodes]
        return ClusterRespPool(seeds, servers=servers)
    return SentinelRespPool(target.nodes, target.service, template, servers=servers)


def _tls(enabled: bool) -> ssl.SSLContext | None:
    return ssl.create_default_context() if enabled else None
