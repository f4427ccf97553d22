"""Append activities to their shard streams, coalescing every enqueue of one event-loop tick
into one round trip on a plain RESP connection (measured: one awaited redis-py command costs
~186 µs of client CPU, a redis-py pipelined one ~21 µs, a hiredis-packed one ~7 µs; see
docs/benchmarks.md and docs/decisions/0004)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable

from gateway.enqueue_pool import EnqueuePool
from shared.errors import TurnstreamError
from shared.protocol.chain import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.redis.connection import OutageLog
from shared.redis.resp import Command, ReplyError, RespError, is_noscript

log = logging.getLogger(__name__)

__all__ = ["ENQUEUE_KEYS", "ENQUEUE_SCRIPT", "Enqueuer", "Unavailable", "enqueue_arguments"]

_SCRIPT_SHA = hashlib.sha1(ENQUEUE_SCRIPT.encode()).hexdigest()


_Pending = tuple[Command, "asyncio.Future[str | None]"]


class Unavailable(TurnstreamError):
    """Redis did not take the activity in time; nothing may be assumed written."""


class Enqueuer:
    """Batches enqueues per event-loop tick; each caller awaits its own entry id."""

    def __init__(
        self,
        pool: EnqueuePool,
        *,
        dedupe_window_seconds: int,
        timeout_seconds: float,
        on_failure: Callable[[str, int], None] | None = None,
    ) -> None:
        """`on_failure(reason, activities)` is told of every enqueue that failed (metrics):
        `timeout`, `connection` or `script`."""
        self._pool = pool
        self._on_failure = on_failure
        self._dedupe_window = str(dedupe_window_seconds)
        self._timeout = timeout_seconds
        self._batch: list[_Pending] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self.outage = OutageLog("Redis (gateway enqueue)")

    async def enqueue(
        self, stream: str, seen_key: str, last_key: str, envelope: bytes, *, dedupe: bool
    ) -> str | None:
        """Append one envelope after the conversation's last entry. Return its entry id, or
        None if `dedupe` is set and `seen_key` marks the activity as already queued.

        Raises `Unavailable` if Redis does not answer within the timeout.
        """
        command: Command = (
            "EVALSHA",
            _SCRIPT_SHA,
            3,
            stream,
            seen_key,
            last_key,
            envelope,
            self._dedupe_window,
            "1" if dedupe else "0",
        )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._flush)
        self._batch.append((command, future))
        # No timeout of its own: `_send` bounds the whole round trip (connection wait included)
        # and fails every future of its batch when it runs out.
        return await future

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                results = await self._pool.execute([command for command, _ in batch])
                missing = [i for i, r in enumerate(results) if is_noscript(r)]
                if missing:  # the server lost its script cache (restart, failover): load and redo
                    await self._pool.execute([("SCRIPT", "LOAD", ENQUEUE_SCRIPT)])
                    retried = await self._pool.execute([batch[i][0] for i in missing])
                    for i, result in zip(missing, retried, strict=True):
                        results[i] = result
        except (OSError, TimeoutError, RespError) as e:
            self.outage.failed(e)
            reason = "did not answer in time" if isinstance(e, TimeoutError) else type(e).__name__
            _fail_all(batch, Unavailable(f"Redis unavailable: {reason}"))
            if self._on_failure is not None:
                self._on_failure(
                    "timeout" if isinstance(e, TimeoutError) else "connection", len(batch)
                )
            return
        self._settle(batch, results)

    def _settle(self, batch: list[_Pending], results: list[object]) -> None:
        """Hand each caller its result. A cluster answers per master: one unreachable (failing
        over) fails only its own commands."""
        failed = [result for result in results if isinstance(result, RespError)]
        if failed:
            self.outage.failed(failed[0])
        else:
            self.outage.succeeded()
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, RespError):
                future.set_exception(Unavailable(f"Redis unavailable: {result}"))
                if self._on_failure is not None:
                    self._on_failure("connection", 1)
            elif isinstance(result, ReplyError):
                log.error("enqueue script failed: %s", result)
                future.set_exception(Unavailable(f"enqueue failed: {result}"))
                if self._on_failure is not None:
                    self._on_failure("script", 1)
            else:
                future.set_result(result.decode() if isinstance(result, bytes) else None)

    async def aclose(self) -> None:
        """Wait for batches already sent, so no caller is left without an answer."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)


def _fail_all(batch: list[_Pending], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
