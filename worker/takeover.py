"""Keeping entries alive, and taking over the entries of workers that died or froze.

A worker renews the idle time of every entry it holds (heartbeat) well within the claim timeout;
an entry idle past the timeout therefore belongs to a worker that stopped (kill -9, a frozen
process, a lost network) and any other worker may claim it. Commits are fenced on ownership, so
a frozen worker that wakes up after its entries were taken cannot commit them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.redisconn import Redis

RENEW_SCRIPT = """
local renewed = 0
for i = 3, #ARGV do
  local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #owner > 0 and owner[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed
"""
"""KEYS: a shard stream. ARGV: group, this consumer, entry ids. Resets the idle time of the
entries this consumer still owns, and only those: a plain XCLAIM would take back an entry that
another worker rightly took over while this one was frozen."""
_RENEW_SHA = hashlib.sha1(RENEW_SCRIPT.encode()).hexdigest()


async def renew(redis: Redis, group: str, consumer: str, held: dict[str, list[str]]) -> None:
    """One round trip: renew every held entry, stream by stream."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream, ids in held.items():
            pipe.evalsha(_RENEW_SHA, 1, stream, group, consumer, *ids)
        results = await pipe.execute(raise_on_error=False)
    if any("NOSCRIPT" in str(r) for r in results if isinstance(r, Exception)):
        await redis.script_load(RENEW_SCRIPT)
        async with redis.pipeline(transaction=False) as pipe:
            for stream, ids in held.items():
                pipe.evalsha(_RENEW_SHA, 1, stream, group, consumer, *ids)
            await pipe.execute()


async def claim_abandoned(
    redis: Redis, streams: list[str], group: str, consumer: str, idle_ms: int, count: int
) -> list[tuple[str, list[Any]]]:
    """Entries idle longer than `idle_ms` on any stream, now owned by `consumer`, shaped like an
    XREADGROUP answer: [(stream, [(id, fields), ...]), ...]."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xautoclaim(stream, group, consumer, idle_ms, start_id="0-0", count=count)
        answers: list[Any] = await pipe.execute()
    claimed = []
    for stream, answer in zip(streams, answers, strict=True):
        messages = [m for m in answer[1] if m and m[1]]  # deleted entries come back empty
        if messages:
            claimed.append((stream, messages))
    return claimed
