"""Plain RESP connection pools (decision 0004) for the topology `REDIS_URL` names: one server
(`RespPool`), a Redis Cluster (`ClusterRespPool`, routed by slot) or a Sentinel-managed primary
(`SentinelRespPool`). The gateway's enqueue and the worker's per-turn scripts send on them."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import Sequence
from typing import Any, Protocol

from shared.redis.cluster_resp import ClusterRespPool
from shared.redis.resp import Command, Durability, Endpoint, RespPool
from shared.redis.sentinel_resp import SentinelRespPool
from shared.redis.url import Topology, parse_target, topology
from shared.settings import Settings


class RespExecutor(Protocol):
    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, error replies (`ReplyError`, `RespError`) in place."""
        ...

    async def aclose(self) -> None: ...


def open_resp_pool(
    settings: Settings,
    *,
    durability: Durability | None = None,
    timeout_seconds: float | None = None,
) -> RespExecutor:
    """A pool of `TURNSTREAM_REDIS_MAX_CONNECTIONS` connections. With `timeout_seconds`, a
    batch not answered in time raises TimeoutError (and its connection is dropped)."""
    url = settings.redis_url
    if not url:
        raise ValueError("no Redis URL: set REDIS_URL")
    size = settings.redis_max_connections
    kind = topology(url)
    pool: RespExecutor
    if kind is Topology.SINGLE:
        pool = RespPool(Endpoint.from_url(url), max_connections=size, durability=durability)
    else:
        target = parse_target(url)
        template = Endpoint(
            username=target.username, password=target.password, db=target.db, tls=_tls(target.tls)
        )
        if kind is Topology.CLUSTER:
            seeds = [dataclasses.replace(template, host=h, port=p) for h, p in target.nodes]
            pool = ClusterRespPool(seeds, max_connections=size, durability=durability)
        else:
            pool = SentinelRespPool(
                target.nodes, target.service, template, max_connections=size, durability=durability
            )
    return pool if timeout_seconds is None else _Timed(pool, timeout_seconds)


class _Timed:
    """Every batch bounded in time (the gateway bounds its batches itself).

    One timer per batch that cancels the batch's task, and that cancellation turned into
    TimeoutError, as `asyncio.timeout` does; without its context manager object, which cost
    ~4 µs a batch against ~2 µs for the bare timer (two or three batches a stateful turn,
    issue 24)."""

    def __init__(self, pool: RespExecutor, seconds: float) -> None:
        self._pool = pool
        self._seconds = seconds

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        task = asyncio.current_task()
        assert task is not None, "execute runs in a task"
        loop = asyncio.get_running_loop()
        expiry = _Expiry(task)
        timer = loop.call_at(loop.time() + self._seconds, expiry.fire)
        try:
            return await self._pool.execute(commands)
        except asyncio.CancelledError as e:
            # Ours only if no other cancellation was asked for meanwhile (asyncio.timeout's
            # rule): an outer cancel or timeout still reaches its owner as CancelledError.
            if expiry.settle():
                raise TimeoutError("Redis did not answer in time") from e
            raise
        finally:
            timer.cancel()
            expiry.settle()  # a cancellation the batch swallowed is not left on the task

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Expiry:
    """A batch's timer: cancels the batch's task once, and remembers that it did."""

    __slots__ = ("cancelling", "fired", "settled", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.cancelling = task.cancelling()  # cancellations asked for before the batch began
        self.fired = False
        self.settled = False

    def fire(self) -> None:
        self.fired = True
        self.task.cancel()

    def settle(self) -> bool:
        """Once the batch ended: take back the timer's cancellation request (once, as
        `asyncio.timeout` does). True if it fired and no other cancellation was asked for."""
        if not self.fired or self.settled:
            return False
        self.settled = True
        return self.task.uncancel() <= self.cancelling


def _tls(enabled: bool) -> ssl.SSLContext | None:
    return ssl.create_default_context() if enabled else None
