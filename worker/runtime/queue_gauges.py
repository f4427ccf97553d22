"""The dead-letter and scheduled-turn gauges, polled in the background (a pipelined round trip
or two per interval, never per turn)."""

from __future__ import annotations

import asyncio
import logging
import time

from redis.exceptions import RedisError

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from worker.runtime.metrics import WorkerMetrics

log = logging.getLogger(__name__)

DEAD_LETTER_POLL_SECONDS = 15.0


async def poll_dead_letters(
    redis: Redis,
    keys: Keyspace,
    metrics: WorkerMetrics,
    interval: float = DEAD_LETTER_POLL_SECONDS,
) -> None:
    """Set `turnstream_dead_letters{shard}` and the scheduled-turn gauges every `interval`
    seconds, until cancelled."""
    schedule = Schedule(redis, keys)
    while True:
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for shard in range(keys.shards):
                    pipe.xlen(keys.dead_letters(shard))
                lengths: list[int] = await pipe.execute()
            for shard, length in enumerate(lengths):
                metrics.dead_letters.labels(str(shard)).set(length)
            for shard, (waiting, due) in enumerate(await schedule.counts(time.time())):
                metrics.scheduled_waiting.labels(str(shard)).set(waiting)
                metrics.scheduled_due.labels(str(shard)).set(due)
        except (RedisError, OSError) as e:
            log.debug("dead letters not measured: %s", e)  # the consumer reports outages
        await asyncio.sleep(interval)
