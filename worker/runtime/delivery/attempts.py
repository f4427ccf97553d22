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

Counting a try is also what keeps an earlier try out: the count is checked and raised in one
script, which first looks whether the entry is still pending with this worker, and every fenced
write a try makes carries the count it began with (`fence.fenced`). So a commit whose answer was
lost either landed before the retry's count (the retry finds the entry committed and does not
run) or lands after it (refused). Never both the old commit and the retry.

A worker that took an entry over cannot tell whether the first reader started it, and does not
count that try. So an entry held by any number of workers that died before running it keeps
all its tries, and a turn that kills its worker every time is still dead-lettered: after the
limit plus at most one extra try (that unrecorded first one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.protocol.keys import STARTS_TTL_SECONDS
from shared.redis.resp import ReplyError, RespError
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import ResourceResponse
from worker.bot.errors import TakenOver
from worker.runtime.delivery.fence import HOLDER
from worker.runtime.delivery.scripts import Script
from worker.runtime.delivery.send_journal import unpack

log = logging.getLogger(__name__)

EntryKey = tuple[str, str]
"""(stream, entry id): unique across shards."""

BEGIN_SCRIPT = f"""{HOLDER}
local who = holder(KEYS[1], ARGV[1], ARGV[2])
if not who then
  return 0
end
if who ~= ARGV[3] then
  return -1
end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], {STARTS_TTL_SECONDS})
local sent = false
if ARGV[4] == '1' then
  sent = redis.call('GET', KEYS[3])
end
return {{count, sent}}
"""
"""KEYS: the shard stream, the entry's count of tries, its record of sent replies (one slot).
ARGV: group, entry id, this consumer, '1' to read the record. Answers 0 if the entry is no
longer pending (committed), -1 if another consumer holds it, else {the count after adding this
try, the record or false}. Checked and counted in one step: a commit of an earlier try that
lands later finds the count moved on (`fence.fenced`); one that landed before is seen here."""
BEGIN = Script(BEGIN_SCRIPT)


class AlreadyCommitted(Exception):
    """The entry was committed while its worker did not know: an earlier try's commit whose
    answer was lost (a timeout after Redis applied it) did land."""


@dataclass(frozen=True, slots=True)
class Try:
    number: int
    """1 for the first try of the entry's turn (see the module docstring for what counts)."""
    replies: list[ResourceResponse]
    """What earlier tries sent, in order; this try's sends are added to it."""
    count: int = 0
    """The entry's count of tries in Redis when this try began (0: none recorded): the try's
    fenced writes carry it, and are refused once a later try moved it on."""


class Tries:
    """The tries of the entries one worker holds: `taken_over(key)` when an entry comes from
    another worker, `await begin(...)` before each try, `forget(key)` once done with it."""

    def __init__(self, scripts: RespExecutor, group: str, consumer: str) -> None:
        self._scripts = scripts
        self._group = group
        self._consumer = consumer
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
        sent. Raises `TakenOver` if another worker holds the entry, `AlreadyCommitted` if an
        earlier try's commit landed after all, and what the round trip raised (REDIS_FAILURES)
        when the try could not be counted: it must not start (uncounted, a turn that kills its
        worker would be retried forever)."""
        replies = self._replies.get(key)
        read_here = key not in self._taken_over
        if replies is None and read_here:
            replies = self._replies[key] = []
            return Try(1, replies)
        stream, entry_id = key
        (answer,) = await BEGIN.run(
            self._scripts,
            [
                (
                    (stream, starts_key, sent_key),
                    (self._group, entry_id, self._consumer, "1" if replies is None else "0"),
                )
            ],
        )
        if isinstance(answer, (ReplyError, RespError)):
            raise answer
        if answer == 0:
            raise AlreadyCommitted(f"entry {entry_id} was committed by an earlier try")
        if answer == -1:
            raise TakenOver(f"entry {entry_id} is held by another worker")
        assert isinstance(answer, list), answer
        count = int(answer[0])
        if replies is None:
            recorded = unpack(answer[1] or None)
            if recorded:
                log.info("entry %s already sent %d replies before", entry_id, len(recorded))
            replies = self._replies[key] = recorded
        return Try(count + 1 if read_here else count, replies, count)

    def forget(self, key: EntryKey) -> None:
        """The entry is done here (committed, dead-lettered, released or lost)."""
        self._taken_over.discard(key)
        self._replies.pop(key, None)
