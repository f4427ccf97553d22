"""Gateways announce themselves: one heartbeat key per gateway process, so that operators
(`turnstream status`) see how many gateways are up and what each has answered."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import orjson

from shared.heartbeat import Heartbeat
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis


def gateway_id() -> str:
    """Unique per gateway process: host name (the pod name) and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


def gateway_heartbeat(
    redis: Redis, keys: Keyspace, answered: Callable[[], dict[str, int]]
) -> Heartbeat:
    """A heartbeat whose value tells when the gateway started and what it has answered so far
    (`answered()`: status -> requests)."""
    started = time.time()

    def describe() -> str:
        return orjson.dumps({"started_at": started, "answered": answered()}).decode()

    return Heartbeat(redis, keys.gateway_heartbeat(gateway_id()), describe)
