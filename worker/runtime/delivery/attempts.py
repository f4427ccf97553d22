"""Which try of its turn an entry is on, counted across workers: what TURNSTREAM_MAX_DELIVERIES
limits.

A delivery is not a try. A worker that dies while it only holds an entry (queued, or waiting for
its predecessor) never started the turn, yet every takeover adds one to the entry's delivery
count in XPENDING; counted against the limit, that would dead-letter healthy entries after a few
kills, and move their conversations past them. What counts here is how often the turn started.

The first try of an entry read for the first time is the normal turn: it records nothing, so a
turn still costs its two round trips. Every other try adds one to the entry's count in Redis
(`Keyspace.starts`, in its shard's slot) before the turn starts: a retry in place after a
transient failure, and the first try on a worker that took the entry over, where the count
shares the round trip that loads the entry's record of sent replies. A try's number is that
count, plus one on the worker that read the entry first (its own first try, not recorded).

A worker that took an entry over cannot tell whether the first reader started it, and does not
count that try. So an entry held by any number of workers that died before running it keeps
all its tries, and a turn that kills its worker every time is still dead-lettered: after the
limit plus at most one extra try (that unrecorded first one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.protocol.keys import STARTS_TTL_SECONDS
from shared.redis.connection import Redis
from shared.schema.activity import ResourceResponse
from worker.runtime.delivery.send_journal import unpack

log = logging.getLogger(__name__)

EntryKey = tuple[str, str]
"""(stream, entry id): unique across shards."""


@dataclass(frozen=True, slots=True)
class Try:
    number: int
    """1 for the first try of the entry's turn (see the module docstring for what counts)."""
    replies: list[ResourceResponse]
    """What earlier tries sent, in order; this try's sends are added to it."""


class Tries:
    """The tries of the entries one worker holds: `taken_over(key)` when an entry comes from
    another worker, `await begin(...)` before each try, `forget(key)` once done with it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._taken_over: set[EntryKey] = set()
        self._replies: dict[EntryKey, list[ResourceResponse]] = {}
        """Replies sent so far by the entries tried here, kept across retries in place."""

    def taken_over(self, key: EntryKey) -> None:
        """The entry was delivered to another worker before: its tries so far are in Redis."""
        self._taken_over.add(key)

    def first(self, key: EntryKey) -> bool:
        """True until an entry read here for the first time is tried (the normal turn)."""
        return key not in self._replies and key not in self._taken_over

    async def begin(self, key: EntryKey, starts_key: str, sent_key: str) -> Try:
        """Count this try of the entry's turn, and return it with the replies earlier tries
        sent. Raises RedisError or OSError when the try could not be counted: it must not start
        (uncounted, a turn that kills its worker would be retried forever)."""
        replies = self._replies.get(key)
        read_here = key not in self._taken_over
        if replies is None and read_here:
            replies = self._replies[key] = []
            return Try(1, replies)
        count, recorded = await _count_start(
            self._redis, starts_key, sent_key if replies is None else None
        )
        if replies is None:
            if recorded:
                log.info("entry %s already sent %d replies before", key[1], len(recorded))
            replies = self._replies[key] = recorded
        return Try(count + 1 if read_here else count, replies)

    def forget(self, key: EntryKey) -> None:
        """The entry is done here (committed, dead-lettered, released or lost)."""
        self._taken_over.discard(key)
        self._replies.pop(key, None)


async def _count_start(
    redis: Redis, starts_key: str, sent_key: str | None
) -> tuple[int, list[ResourceResponse]]:
    """Add one to the entry's count of tries; with `sent_key`, also read its record of sent
    replies. One round trip; the keys share the entry's slot, so it works on a cluster too."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(starts_key)
        pipe.expire(starts_key, STARTS_TTL_SECONDS)
        if sent_key is not None:
            pipe.get(sent_key)
        answers: list[Any] = await pipe.execute()
    return int(answers[0]), unpack(answers[2]) if sent_key is not None else []
