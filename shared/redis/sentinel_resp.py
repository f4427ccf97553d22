"""Plain RESP batches on a Sentinel-managed primary: ask the Sentinels where the
primary is, send there, and ask again when it stops answering or turns out to be a replica.

During a failover the batches fail fast (connection refused, `READONLY` from a demoted primary,
or no primary known yet): the gateway answers 503 + Retry-After and the channel retries; every
round trip stays bounded by the enqueue timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from shared.redis.resp import (
    Command,
    Endpoint,
    ReplyError,
    RespConnection,
    RespError,
    ServerPool,
    ServerPools,
)

log = logging.getLogger(__name__)

_ASK_TIMEOUT_SECONDS = 0.5


class NoPrimary(RespError):
    """No Sentinel named a primary (all unreachable, or a failover under way)."""


class SentinelRespPool:
    """`execute(commands)` like `RespPool`, on whichever server the Sentinels call primary,
    through its pool from `servers`."""

    def __init__(
        self,
        sentinels: Sequence[tuple[str, int]],
        service: str,
        template: Endpoint,
        *,
        servers: ServerPools,
    ) -> None:
        self._sentinels = list(sentinels)
        self._service = service
        self._template = template
        self.servers = servers
        self._pool: ServerPool | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()
        self.switches = 0
        """How many times the primary was looked up again after a failure."""

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        pool = self._pool or await self._discover()
        try:
            replies = await pool.execute(commands)
        except (OSError, TimeoutError, RespError):
            self._forget(pool)
            raise
        if any(isinstance(r, ReplyError) and str(r).startswith("READONLY") for r in replies):
            self._forget(pool)  # it was demoted to a replica: the next batch asks again
        return replies

    def _forget(self, pool: ServerPool) -> None:
        if self._pool is pool:
            self._pool = None
            self.switches += 1
            task = asyncio.get_running_loop().create_task(pool.aclose())
            self._closing.add(task)  # held until done: a task nobody references may vanish
            task.add_done_callback(self._closing.discard)

    async def _discover(self) -> ServerPool:
        async with self._lock:
            if self._pool is not None:
                return self._pool
            for host, port in self._sentinels:
                address = await _ask(host, port, self._service)
                if address is None:
                    continue
                endpoint = dataclasses.replace(
                    self._template, host=address[0], port=address[1], path=None
                )
                log.info("Sentinel %s:%d names %s:%d primary", host, port, *address)
                self._pool = pool = self.servers(endpoint)
                return pool
            raise NoPrimary(f"no Sentinel named a primary for {self._service!r}")

    async def aclose(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


async def _ask(host: str, port: int, service: str) -> tuple[str, int] | None:
    try:
        async with asyncio.timeout(_ASK_TIMEOUT_SECONDS):
            connection = await RespConnection.open(Endpoint(host=host, port=port))
            try:
                (reply,) = await connection.execute(
                    [("SENTINEL", "GET-MASTER-ADDR-BY-NAME", service)]
                )
            finally:
                connection.close()
    except (OSError, TimeoutError, RespError):
        return None
    if not isinstance(reply, list) or len(reply) != 2:
        return None
    return reply[0].decode(), int(reply[1])
