"""Keeping entries alive, and taking over the entries of workers that died or froze.

A worker renews the idle time of every entry it holds (heartbeat) well within the claim timeout;
an entry idle past the timeout therefore belongs to a worker that stopped (kill -9, a frozen
process, a lost network) and any other worker may claim it. Commits are fenced on ownership, so
a frozen worker that wakes up after its entries were taken cannot commit them.

The scripts and calls are here (`renew`, used by worker.runtime.delivery.leases; the claims),
and `Takeover`, a worker's takeover loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

from redis.exceptions import RedisError

from shared.loops import pause
from shared.protocol.keys import CONSUMER_GROUP, PREVIOUS_FIELD
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.entries import Entry, EntryDecoder
from worker.runtime.delivery.fence import OWNS
from worker.runtime.delivery.ordering import entry_order
from worker.runtime.delivery.scripts import REDIS_FAILURES, Script
from worker.runtime.delivery.timings import DeliveryTimings

RENEW_SCRIPT = f"""{OWNS}
local lost = {{}}
for i = 3, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
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
    scripts: RespExecutor, group: str, consumer: str, held: dict[str, list[str]]
) -> set[tuple[str, str]]:
    """One round trip: renew every held entry, stream by stream. Returns (stream, id) of the
    entries this consumer does not own any more."""
    calls = [((stream,), (group, consumer, *ids)) for stream, ids in held.items()]
    results = await _RENEW.run(scripts, calls)
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


CLAIM_CHAIN_SCRIPT = f"""
local claimed = {{}}
local id = ARGV[5]
for _ = 1, tonumber(ARGV[4]) do
  local got = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], id)
  if #got == 0 or not got[1][2] then
    break
  end
  table.insert(claimed, got[1])
  local fields = got[1][2]
  id = ''
  for i = 1, #fields, 2 do
    if fields[i] == '{PREVIOUS_FIELD}' then
      id = fields[i + 1]
    end
  end
  if id == '' then
    break
  end
end
return claimed
"""
"""KEYS: a shard stream. ARGV: group, this consumer, the claim timeout (ms), the most entries to
claim, an entry id. Claims the entry if it is pending and idle past the claim timeout, then its
predecessor (named in its `p` field) on the same terms, and so on up the conversation's chain:
a killed worker held a run of the conversation's entries, and this takes the whole run in one
command. Stops at the first entry that is not abandoned: committed, held by a live worker
(renewed, so never idle that long), or no longer in the stream (XCLAIM drops a deleted entry
from the group)."""
_CLAIM_CHAIN = Script(CLAIM_CHAIN_SCRIPT)


async def claim_predecessors(
    scripts: RespExecutor,
    group: str,
    consumer: str,
    idle_ms: int,
    predecessors: list[tuple[str, str]],
    most: int,
) -> list[tuple[str, list[Any]]]:
    """Claim the predecessors (stream, entry id) that entries held here wait for, when their
    worker stopped renewing them, with the abandoned entries before each (up to `most` per
    chain), in one round trip. Shaped like an XREADGROUP answer: [(stream, [(id, fields)])]."""
    calls = [
        ((stream,), (group, consumer, idle_ms, most, entry_id)) for stream, entry_id in predecessors
    ]
    results = await _CLAIM_CHAIN.run(scripts, calls)
    claimed: dict[str, list[Any]] = {}
    for (stream, _), result in zip(predecessors, results, strict=True):
        if isinstance(result, Exception):
            raise result
        for raw_id, flat in cast(list[Any], result):
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            claimed.setdefault(stream, []).append((raw_id, fields))
    return list(claimed.items())


async def lost(redis: Redis, group: str, stream: str, entry_id: str, done_key: str) -> bool:
    """Whether an entry is neither pending with any consumer nor committed (its conversation's
    `done` pointer is not at or past it): a failover lost its delivery. One round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
        pipe.get(done_key)
        rows, done = await pipe.execute()
    committed = bool(done) and entry_order(done.decode()) >= entry_order(entry_id)
    return not rows and not committed


class Takeover:
    """One worker's takeover loop (`run`): now and then, claim what dead or frozen workers
    held — first the predecessors that entries held here wait for (`waiting`), with the
    abandoned run of the conversation before each, then a share of any others — and hand the
    claimed entries to `taken_over`."""

    def __init__(
        self,
        redis: Redis,
        scripts: RespExecutor,
        streams: list[str],
        consumer: str,
        decoder: EntryDecoder,
        outage: OutageLog,
        stopping: asyncio.Event,
        *,
        timings: DeliveryTimings,
        max_pending: int,
    ) -> None:
        self._redis = redis
        self._scripts = scripts
        self._streams = streams
        self._consumer = consumer
        self._decoder = decoder
        self._outage = outage
        self._stopping = stopping
        self._timings = timings
        self._claim_idle_ms = timings.claim_timeout_ms
        self._max_pending = max_pending
        self._cursors: dict[str, str] = {}
        """Where each stream's scan for abandoned entries resumes (claim_abandoned)."""
        self._waiting: dict[tuple[str, str], tuple[Entry, float]] = {}
        """Entries at the head of their conversation here that wait in the order gate for their
        predecessor, with when they began to wait (see `_blocked_predecessors`)."""

    @contextlib.contextmanager
    def waiting(self, entry: Entry) -> Iterator[None]:
        """While the block runs, `entry` waits here for its predecessor: worth claiming, once
        it has waited a while."""
        self._waiting[entry.key] = (entry, time.monotonic())
        try:
            yield
        finally:
            del self._waiting[entry.key]

    async def run(self, taken_over: Callable[[list[Entry]], Awaitable[None]]) -> None:
        """Claim until stopped (or cancelled); `taken_over(entries)` after each claim."""
        while not self._stopping.is_set():
            await pause(self._timings.takeover_every, self._stopping)
            if self._stopping.is_set():
                continue
            if time.monotonic() - self._outage.last_failure_at < self._timings.quiet_after_outage:
                # Redis was away: every worker's entries look idle now, live ones included.
                # Claim only after the live workers had a full claim timeout to renew theirs.
                continue
            sent_at = time.monotonic()
            try:
                claimed = await self._claim()
            except REDIS_FAILURES as e:
                self._outage.failed(e)
                continue
            await taken_over(self._decoder.decode(claimed, sent_at))

    async def predecessor_lost(self, entry: Entry) -> bool:
        """Whether the entry's predecessor is neither held by any worker nor committed (False
        when Redis cannot say: wait on)."""
        try:
            return await lost(
                self._redis, CONSUMER_GROUP, entry.stream, entry.previous, entry.done_key
            )
        except (RedisError, OSError) as e:
            self._outage.failed(e)
            return False

    async def _claim(self) -> list[tuple[str, list[Any]]]:
        """Abandoned entries: first those that entries held here wait for, by id, then the
        next ones of each stream's scan. Not bounded by the room left here: they hold up
        everything behind them."""
        claimed = []
        blocked = self._blocked_predecessors()
        if blocked:
            claimed = await claim_predecessors(
                self._scripts,
                CONSUMER_GROUP,
                self._consumer,
                self._claim_idle_ms,
                blocked,
                self._max_pending,
            )
        # As many as an idle worker would read, however full this one is: abandoned entries
        # are the oldest of their conversations, and everything behind them waits. Beyond
        # `max_pending`, a worker holds at most what dead workers held.
        return claimed + await claim_abandoned(
            self._redis,
            self._streams,
            CONSUMER_GROUP,
            self._consumer,
            self._claim_idle_ms,
            max(1, self._max_pending // len(self._streams)),
            self._cursors,
        )

    def _blocked_predecessors(self) -> list[tuple[str, str]]:
        """(stream, id) of the predecessors that entries here have waited for long enough that
        their worker may have died (DeliveryTimings.suspect_predecessor_after)."""
        since = time.monotonic() - self._timings.suspect_predecessor_after
        return [
            (entry.stream, entry.previous)
            for entry, waiting_since in self._waiting.values()
            if waiting_since <= since
        ]
