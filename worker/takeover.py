"""Keeping entries alive, and taking over the entries of workers that died or froze.

A worker renews the idle time of every entry it holds (heartbeat) well within the claim timeout;
an entry idle past the timeout therefore belongs to a worker that stopped (kill -9, a frozen
process, a lost network) and any other worker may claim it. Commits are fenced on ownership, so
a frozen worker that wakes up after its entries were taken cannot commit them.
"""

from __future__ import annotations

from typing import Any, cast

from shared.redisconn import Redis
from worker.scripts import Script

RENEW_SCRIPT = """
local lost = {}
for i = 3, #ARGV do
  local owner = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #owner > 0 and owner[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""
"""KEYS: a shard stream. ARGV: group, this consumer, entry ids. Resets the idle time of the
entries this consumer still owns, and only those: a plain XCLAIM would take back an entry that
another worker rightly took over while this one was frozen. Returns the ids it no longer owns
(taken over, or acknowledged meanwhile)."""
_RENEW = Script(RENEW_SCRIPT)


async def renew(
    redis: Redis, group: str, consumer: str, held: dict[str, list[str]]
) -> set[tuple[str, str]]:
    """One round trip: renew every held entry, stream by stream. Returns (stream, id) of the
    entries this consumer does not own any more."""
    calls = [((stream,), (group, consumer, *ids)) for stream, ids in held.items()]
    results = await _RENEW.run(redis, calls)
    errors = [r for r in results if isinstance(r, Exception)]
    if errors:
        raise errors[0]
    lost: set[tuple[str, str]] = set()
    for stream, ids in zip(held, results, strict=True):
        lost.update((stream, raw.decode()) for raw in cast(list[bytes], ids))
    return lost


async def claim_abandoned(
    redis: Redis,
    streams: list[str],
    group: str,
    consumer: str,
    idle_ms: int,
    count: int,
    cursors: dict[str, str] | None = None,
) -> list[tuple[str, list[Any]]]:
    """Entries idle longer than `idle_ms` on any stream, now owned by `consumer`, shaped like an
    XREADGROUP answer: [(stream, [(id, fields), ...]), ...].

    With `cursors`, each stream's scan resumes where the last one stopped (and wraps around),
    so a small `count` still reaches every abandoned entry in turn instead of claiming the
    oldest one again and again."""
    starts = cursors if cursors is not None else {}
    async with redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            start = starts.get(stream, "0-0")
            pipe.xautoclaim(stream, group, consumer, idle_ms, start_id=start, count=count)
        answers: list[Any] = await pipe.execute()
    claimed = []
    for stream, answer in zip(streams, answers, strict=True):
        following = answer[0].decode() if isinstance(answer[0], bytes) else str(answer[0])
        starts[stream] = following or "0-0"
        messages = [m for m in answer[1] if m and m[1]]  # deleted entries come back empty
        if messages:
            claimed.append((stream, messages))
    return claimed


async def owner(redis: Redis, group: str, stream: str, entry_id: str) -> str | None:
    """The consumer an entry is pending with (None once it was acknowledged)."""
    rows: Any = await redis.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
    return rows[0]["consumer"].decode() if rows else None
