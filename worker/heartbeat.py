"""The worker's heartbeat: a key with a TTL, renewed while the worker runs, for liveness probes.

arq's `--check` is the model: the worker keeps rewriting one key that expires unless renewed,
and `turnstream worker --check` (a Kubernetes exec probe in the same pod) exits 0 while the key
exists. A worker whose event loop is wedged, that is frozen or killed, or that has lost Redis
stops renewing it, and the probe fails within `HEARTBEAT_TTL_SECONDS`.

The key is named by the host name, not by the consumer name: the consumer name carries a pid
and a random suffix that the probe cannot know, while a pod's host name is its pod name, the
same for the worker and for the probe's exec. One worker process per host is assumed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from redis.exceptions import RedisError

from shared.redisconn import Redis

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 5.0
"""How often a running worker renews its heartbeat."""

HEARTBEAT_TTL_SECONDS = 15
"""How long a heartbeat lives unrenewed: three missed beats, so one slow Redis call is no death."""


def worker_id() -> str:
    """The stable id of this host's worker: the host name (the pod name on Kubernetes)."""
    return socket.gethostname()


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
                # The consumer logs Redis outages; here a missed beat is only worth a debug line.
                log.debug("heartbeat not renewed: %s", e)
            await asyncio.sleep(self._interval)

    async def clear(self) -> None:
        """Remove the heartbeat at a clean stop, so the probe sees the stop at once."""
        try:
            await self._redis.delete(self._key)
        except (RedisError, OSError) as e:
            log.debug("heartbeat not removed (it expires by itself): %s", e)


async def read_heartbeat(redis: Redis, key: str) -> str | None:
    """The heartbeat's value if a worker renewed it within its TTL, else None."""
    value = await redis.get(key)
    return value.decode() if isinstance(value, bytes) else value
