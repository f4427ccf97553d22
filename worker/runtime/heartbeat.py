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

import socket

from shared.heartbeat import HEARTBEAT_INTERVAL_SECONDS, HEARTBEAT_TTL_SECONDS, Heartbeat
from shared.redis.connection import Redis

__all__ = [
    "HEARTBEAT_INTERVAL_SECONDS",
    "HEARTBEAT_TTL_SECONDS",
    "Heartbeat",
    "read_heartbeat",
    "worker_id",
]


def worker_id() -> str:
    """The stable id of this host's worker: the host name (the pod name on Kubernetes)."""
    return socket.gethostname()


async def read_heartbeat(redis: Redis, key: str) -> str | None:
    """The heartbeat's value if a worker renewed it within its TTL, else None."""
    value = await redis.get(key)
    return value.decode() if isinstance(value, bytes) else value
