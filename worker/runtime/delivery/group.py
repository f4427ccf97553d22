"""The consumer group: created on every shard stream before the first read, and left by a
worker that stops holding nothing, so that the group lists only workers that may still hold
entries (`turnstream status`)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError, ResponseError

from shared.protocol.keys import CONSUMER_GROUP
from shared.redis.connection import Redis

log = logging.getLogger(__name__)


async def ensure_groups(redis: Redis, streams: list[str]) -> None:
    """Create the consumer group on every stream if missing (idempotent). Raises what Redis
    raised."""
    for stream in streams:
        try:
            # "0": entries the gateway queued before any worker ever started are not skipped.
            await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise


async def leave_group(redis: Redis, streams: list[str], consumer: str) -> None:
    """Remove `consumer` from the group on the streams where it holds nothing. A consumer that
    still owns pending entries is kept: deleting it would drop them. Failures are logged."""
    try:
        for stream in streams:
            for member in await redis.xinfo_consumers(stream, CONSUMER_GROUP):
                name = member["name"]
                name = name.decode() if isinstance(name, bytes) else name
                if name == consumer and member["pending"] == 0:
                    await redis.xgroup_delconsumer(stream, CONSUMER_GROUP, consumer)
    except (RedisError, OSError) as e:
        log.warning("could not remove consumer %s from the group: %s", consumer, e)
