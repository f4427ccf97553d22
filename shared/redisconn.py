"""The one way turnstream opens Redis: a bounded pool, bounded timeouts, logged outages."""

from __future__ import annotations

import logging
import math
import time

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from shared.settings import Settings

log = logging.getLogger(__name__)

Redis = aioredis.Redis


def connect(
    settings: Settings, *, read_block_seconds: float = 0.0, url: str | None = None
) -> Redis:
    """A client on a pool that waits for a free connection instead of raising past its size.

    `read_block_seconds` widens the socket timeout for callers that issue blocking reads
    (XREADGROUP BLOCK), so a quiet stream is not mistaken for a dead server.
    """
    target = url or settings.redis_url
    if not target:
        raise ValueError("no Redis URL: set REDIS_URL")
    timeout = settings.redis_timeout_seconds
    pool = aioredis.BlockingConnectionPool.from_url(
        target,
        max_connections=settings.redis_max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout + read_block_seconds,
        socket_keepalive=True,
        health_check_interval=30,
        # One quick retry absorbs a connection the server closed while idle; longer outages
        # surface to the caller, which answers 503 (gateway) or backs off (worker).
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=1),
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes both


def redacted(url: str) -> str:
    """The URL with any password replaced, fit for a log line."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else f"{scheme}{sep}***@{host}"


class OutageLog:
    """Logs the first failure of an outage and the recovery, not every failed call in between."""

    def __init__(self, what: str) -> None:
        self._what = what
        self.failures = 0
        """Failed calls since the last success: 0 means up."""
        self.last_failure_at = -math.inf
        """`time.monotonic()` of the latest failure."""

    def failed(self, error: BaseException) -> None:
        self.last_failure_at = time.monotonic()
        if not self.failures:
            log.warning("%s unreachable: %s: %s", self._what, type(error).__name__, error)
        self.failures += 1

    def succeeded(self) -> None:
        if self.failures:
            log.warning("%s reachable again after %d failed calls", self._what, self.failures)
            self.failures = 0

    @property
    def down(self) -> bool:
        return self.failures > 0
