"""Reading the shard streams on a Redis Cluster, where one XREADGROUP cannot name streams of
different slots: one XREADGROUP per shard, all in one pipeline (the cluster client sends one
batch per master, concurrently), and a short pause when every shard was empty.

A blocking read would hold one connection per shard per worker and could only wait on one slot;
instead an idle worker polls, backing off from IDLE_FIRST to IDLE_MAX seconds: a new entry waits
at most IDLE_MAX for an idle worker, and a busy worker never pauses.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.backoff import Backoff
from shared.redis.connection import Redis

IDLE_FIRST = 0.005
IDLE_MAX = 0.05


class PerShardReader:
    """`read(...)` returns what one multi-stream XREADGROUP would: [(stream, entries), ...]."""

    def __init__(self, redis: Redis, streams: list[str]) -> None:
        self._redis = redis
        self._streams = streams
        self._idle = Backoff(first=IDLE_FIRST, cap=IDLE_MAX, jitter=False)

    async def read(
        self,
        group: str,
        consumer: str,
        count: int,
        *,
        block: bool,
        streams: list[str] | None = None,
    ) -> list[Any]:
        """New entries of `streams` (default: all of them)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in streams if streams is not None else self._streams:
                pipe.xreadgroup(group, consumer, {stream: ">"}, count=count)
            answers: list[Any] = await pipe.execute()
        response = [item for answer in answers if answer for item in answer]
        if response or not block:
            self._idle.reset()
            return response
        await asyncio.sleep(self._idle.next())
        return response
