"""Bounded streams: remove entries the group has read and committed.

Everything below the first still-pending entry, and at or below the group's last delivered id,
has been acknowledged; nothing not yet read is ever touched. Run by every worker now and then:
trimming twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

from shared.loops import pause
from shared.redis.connection import OutageLog, Redis
from worker.runtime.delivery.ordering import entry_order

log = logging.getLogger(__name__)

TRIM_INTERVAL_SECONDS = 30.0


async def keep_trimmed(
    redis: Redis, streams: list[str], group: str, outage: OutageLog, stopping: asyncio.Event
) -> None:
    """Trim every `TRIM_INTERVAL_SECONDS` until `stopping` is set (or cancelled)."""
    while not stopping.is_set():
        await pause(TRIM_INTERVAL_SECONDS, stopping)
        try:
            removed = await trim_acknowledged(redis, streams, group)
        except (RedisError, OSError) as e:
            outage.failed(e)
            continue
        if removed:
            log.debug("trimmed %d acknowledged entries", removed)


def _after(entry_id: str) -> str:
    milliseconds, sequence = entry_order(entry_id)
    return f"{milliseconds}-{sequence + 1}"


async def trim_acknowledged(redis: Redis, streams: list[str], group: str) -> int:
    """Trim every stream below its safe point; return how many entries went."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xinfo_groups(stream)
            pipe.xpending(stream, group)
        answers: list[Any] = await pipe.execute(raise_on_error=False)
    points: list[tuple[str, str]] = []
    for stream, groups, pending in zip(streams, answers[::2], answers[1::2], strict=True):
        if isinstance(groups, Exception) or isinstance(pending, Exception):
            continue  # no stream or no group yet
        ours = next((g for g in groups if _text(g.get("name")) == group), None)
        if ours is None:
            continue
        last = _text(ours.get("last-delivered-id"))
        if not last or last == "0-0":
            continue
        point = _after(last)
        if pending.get("pending") and pending.get("min"):
            first_pending = _text(pending["min"])
            if entry_order(first_pending) < entry_order(point):
                point = first_pending
        points.append((stream, point))
    if not points:
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for stream, point in points:
            pipe.xtrim(stream, minid=point, approximate=False)
        removed: list[int] = await pipe.execute()
    return sum(removed)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
