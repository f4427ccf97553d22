"""A heartbeat: a key with a TTL that a running process keeps renewing.

Workers beat for their liveness probe (`worker.runtime.heartbeat`), gateways so that `turnstream
status` can count them (`gateway.presence`). A process that is wedged, frozen, killed or cut off
from Redis stops renewing, and its key is gone within the TTL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from shared.redis.connection import Redis

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
"""How often a running process renews its heartbeat."""

HEARTBEAT_TTL_SECONDS = 15
"""How long a heartbeat lives unrenewed: three missed beats, so one slow Redis call is no death."""


class Heartbeat:
    """Renews `key` every `interval` seconds with `describe()` as its value, until cancelled."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        describe: Callable[[], str],
        *,
        interval: float = HEARTBEAT_INTERVAL_SECONDS,
        ttl: int = HEARTBEAT_TTL_SECONDS,
    ) -> None:
        self._redis = redis
        self._key = key
        self._describe = describe
        self._interval = interval
        self._ttl = ttl

    async def run(self) -> None:
        """Beat until cancelled. A failed beat is not retried early: the TTL decides."""
        while True:
            try:
                await self._redis.set(self._key, self._describe(), ex=self._ttl)
            except (RedisError, OSError) as e:
                # Outages are logged where the work is; a missed beat is only worth a debug line.
                log.debug("heartbeat not renewed: %s", e)
            await asyncio.sleep(self._interval)

    async def clear(self) -> None:
        """Remove the heartbeat at a clean stop, so readers see the stop at once."""
        try:
            await self._redis.delete(self._key)
        except (RedisError, OSError) as e:
            log.debug("heartbeat not removed (it expires by itself): %s", e)
