"""Reading new entries for one worker: its own shard streams first (the live workers split
them: worker.runtime.delivery.affinity), any shard when its own are empty; one XREADGROUP for
all of them, or on a cluster one per shard in one pipeline (worker.runtime.delivery.shard_reads).
"""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import RedisError

from shared.protocol.keys import CONSUMER_GROUP
from shared.redis.connection import OutageLog, Redis, is_cluster
from worker.runtime.delivery.affinity import ShardAffinity
from worker.runtime.delivery.entries import Entry, EntryDecoder
from worker.runtime.delivery.shard_reads import PerShardReader


class ShardReader:
    """`read(room)` returns new entries for this worker, or None when Redis failed (the failure
    is logged by `outage`; the caller waits `retry_delay()` before reading again)."""

    def __init__(
        self,
        redis: Redis,
        streams: list[str],
        consumer: str,
        affinity: ShardAffinity,
        decoder: EntryDecoder,
        outage: OutageLog,
        *,
        block_ms: int,
    ) -> None:
        self._redis = redis
        self._streams = streams
        self._consumer = consumer
        self._affinity = affinity
        self._decoder = decoder
        self._outage = outage
        self._block_ms = block_ms
        self._per_shard = PerShardReader(redis, streams) if is_cluster(redis) else None
        """On a cluster the shards live in different slots: no single XREADGROUP reads them."""
        self._helping = False
        """True while this worker's own shards are empty and the others' are not."""

    async def read(self, room: int, *, block: bool) -> list[Entry] | None:
        """New entries (None if Redis failed): from this worker's own shards first, from any
        shard when its own have none (worker.runtime.delivery.affinity)."""
        own = self._affinity.preferred
        if not own or len(own) == len(self._streams):  # no share (more workers than shards)
            return await self._read_streams(self._streams, room, block=block)
        # While helping (the others' shards have entries, its own not), look at its own without
        # waiting and wait on all; otherwise wait on its own and look at all without waiting.
        entries = await self._read_streams(own, room, block=block and not self._helping)
        if entries is None or entries:
            self._helping = False
            return entries
        entries = await self._read_streams(self._streams, room, block=block and self._helping)
        self._helping = bool(entries)
        return entries

    async def _read_streams(
        self, streams: list[str], room: int, *, block: bool
    ) -> list[Entry] | None:
        count = max(1, room // len(streams))
        sent_at = time.monotonic()
        try:
            response: Any
            if self._per_shard is not None:
                response = await self._per_shard.read(
                    CONSUMER_GROUP, self._consumer, count, block=block, streams=streams
                )
            else:
                response = await self._redis.xreadgroup(
                    CONSUMER_GROUP,
                    self._consumer,
                    dict.fromkeys(streams, ">"),
                    count=count,
                    block=self._block_ms if block else None,
                )
        except (RedisError, OSError) as e:
            self._outage.failed(e)
            return None
        self._outage.succeeded()
        return self._decoder.decode(response, sent_at)
