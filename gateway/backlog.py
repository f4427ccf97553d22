"""Backpressure: watch how far the workers are behind, and refuse work when it is too far.

The lag (entries no worker has read yet) is polled in the background (`watch`, one of the
gateway's background loops), once a second, in one pipelined round trip for all shards: the hot
path only reads a boolean. The same poll feeds the
backlog gauges of /metrics (`on_measure`), so they cost no command of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from shared.protocol.keys import CONSUMER_GROUP
from shared.redis.connection import Redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShardBacklog:
    """One shard stream as the last poll saw it."""

    length: int
    """Entries in the stream (read or not; trimmed once committed)."""
    lag: int
    """Entries no worker has read yet."""
    pending: int
    """Entries read by a worker and not committed yet."""


class BacklogMonitor:
    """`over` is True while the total lag exceeds `limit` (never, with limit 0).

    Polls while there is a limit to enforce or an `on_measure` to feed (the metrics)."""

    def __init__(
        self,
        redis: Redis,
        streams: list[str],
        limit: int,
        interval: float = 1.0,
        on_measure: Callable[[list[ShardBacklog]], None] | None = None,
    ) -> None:
        self._redis = redis
        self._streams = streams
        self._limit = limit
        self._interval = interval
        self._on_measure = on_measure
        self.backlog = 0
        self.over = False

    async def watch(self) -> None:
        """Poll until cancelled; returns at once with nothing to enforce or feed."""
        if self._limit <= 0 and self._on_measure is None:
            return
        while True:
            try:
                shards = await self.measure_shards()
                self._update(sum(shard.lag for shard in shards))
                if self._on_measure is not None:
                    self._on_measure(shards)
            except (RedisError, OSError) as e:
                log.debug("backlog not measured: %s", e)  # enqueue reports the outage
            await asyncio.sleep(self._interval)

    async def measure(self) -> int:
        """Entries not yet read by the worker group, all shards together."""
        return sum(shard.lag for shard in await self.measure_shards())

    async def measure_shards(self) -> list[ShardBacklog]:
        """Length, lag and pending of every shard stream, in shard order."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in self._streams:
                pipe.xlen(stream)
                pipe.xinfo_groups(stream)
            answers: list[Any] = await pipe.execute(raise_on_error=False)
        shards = []
        for length, groups in zip(answers[::2], answers[1::2], strict=True):
            if isinstance(length, Exception):
                raise length
            group = None
            if not isinstance(groups, Exception):  # no stream yet: nothing queued either
                group = next((g for g in groups if _name(g) == CONSUMER_GROUP), None)
            lag = group.get("lag") if group else None
            pending = int(group.get("pending") or 0) if group else 0
            shards.append(
                ShardBacklog(int(length), int(lag) if lag is not None else int(length), pending)
            )
        return shards

    def _update(self, backlog: int) -> None:
        was_over, self.backlog = self.over, backlog
        self.over = 0 < self._limit < backlog
        if self.over != was_over:
            log.warning(
                "backlog %d is %s the limit of %d: %s new activities",
                backlog,
                "over" if self.over else "back under",
                self._limit,
                "refusing (503)" if self.over else "accepting",
            )


def _name(group: dict[str, Any]) -> str:
    name = group.get("name")
    return name.decode() if isinstance(name, bytes) else str(name)
