"""Pace proactive sends per destination across every worker: Teams accepts about 30 messages a
second per app and tenant and answers 429 beyond, so a fan-out to thousands of conversations
must not go out as fast as the workers can run it.

One Redis key per destination holds the time its next send may go. Each send reserves the next
slot atomically and sleeps until it (a reservation queue: no polling, no retries, and the rate
holds whatever the number of workers). The worker keeps renewing the entry while it waits.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis

# The server's clock, so that workers with skewed clocks still share one schedule.
RESERVE_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - now + 1000)
return slot - now
"""
"""KEYS: the destination's pacing key. ARGV: milliseconds between sends. Returns how many
milliseconds the caller waits before its send."""


def destination(activity: dict[str, Any]) -> str:
    """What a channel throttles on: the service URL's host and the conversation's tenant."""
    host = urlsplit(str(activity.get("serviceUrl", ""))).hostname or "-"
    conversation = activity.get("conversation") or {}
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    if not tenant:
        channel_data = activity.get("channelData")
        if isinstance(channel_data, dict) and isinstance(channel_data.get("tenant"), dict):
            tenant = channel_data["tenant"].get("id")
    return f"{host}:{tenant or '-'}"


class Throttle:
    """`await throttle.wait(activity)` before a proactive send."""

    def __init__(self, redis: Redis, keys: Keyspace, rate_per_second: float) -> None:
        self._keys = keys
        self._interval_ms = max(1, round(1000 / rate_per_second))
        self._reserve = redis.register_script(RESERVE_SCRIPT)

    async def wait(self, activity: dict[str, Any]) -> float:
        """Sleep until this send's slot; return the seconds waited."""
        key = self._keys.throttle(destination(activity))
        waited_ms: Any = await self._reserve(keys=[key], args=[self._interval_ms])
        seconds = int(waited_ms) / 1000
        if seconds > 0:
            await asyncio.sleep(seconds)
        return seconds
