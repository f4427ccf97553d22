"""Dead letters: an entry that cannot be processed (unreadable, or delivered too many times
without success) moves to its shard's dead-letter stream with the reason, and its conversation
moves on. `turnstream dlq` lists, shows, replays and purges them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.protocol.keys import CHAIN_TTL_SECONDS, CONSUMER_GROUP, Keyspace
from shared.redis.connection import OutageLog
from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.entries import Unreadable
from worker.runtime.delivery.fence import OWNS
from worker.runtime.delivery.scripts import REDIS_FAILURES, Script

log = logging.getLogger(__name__)

DEAD_LETTER_SCRIPT = f"""{OWNS}
local owned = owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if not owned then
  return -1
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local fields = {{'stream', KEYS[1], 'entry', ARGV[2], 'reason', ARGV[4],
  'deliveries', tostring(owned[4]), 'at', ARGV[5]}}
if #entry > 0 then
  for i = 1, #entry[1][2] do
    table.insert(fields, entry[1][2][i])
  end
end
redis.call('XADD', KEYS[3], '*', unpack(fields))
redis.call('SET', KEYS[2], ARGV[2], 'EX', {CHAIN_TTL_SECONDS})
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
"""KEYS: shard stream, the conversation's done pointer, the shard's dead-letter stream (one
slot). ARGV: group, entry id, this consumer, reason, time. Fenced like every commit: -1 if
another consumer owns the entry. The dead letter keeps the entry's own fields (envelope and
predecessor) plus where it came from and why; the conversation's pointer moves past it."""
_DEAD_LETTER = Script(DEAD_LETTER_SCRIPT)


async def dead_letter(
    scripts: RespExecutor,
    *,
    stream: str,
    done_key: str,
    dlq: str,
    group: str,
    consumer: str,
    entry_id: str,
    reason: str,
) -> bool:
    """Move one entry to the dead-letter stream; False if it is no longer this consumer's."""
    args = (group, entry_id, consumer, reason[:1000], f"{time.time():.3f}")
    (result,) = await _DEAD_LETTER.run(scripts, [((stream, done_key, dlq), args)])
    if isinstance(result, Exception):
        raise result
    if result == -1:
        return False
    log.error("entry %s moved to %s: %s", entry_id, dlq, reason, extra={"entry_id": entry_id})
    return True


class DeadLetters:
    """One worker's way to the dead letters, for entries it holds. A Redis failure is logged as
    an outage and leaves the entry pending: it is taken over and tried again later.
    `on_moved(key)` after each attempt that reached Redis (the turn's outcome), with the
    entry's (stream, entry id)."""

    def __init__(
        self,
        scripts: RespExecutor,
        keys: Keyspace,
        consumer: str,
        outage: OutageLog,
        on_moved: Callable[[tuple[str, str]], None],
    ) -> None:
        self._scripts = scripts
        self._keys = keys
        self._streams = keys.streams()
        self._consumer = consumer
        self._outage = outage
        self._on_moved = on_moved

    async def move(self, stream: str, entry_id: str, done_key: str, reason: str) -> bool:
        """Move an entry that cannot run, and its conversation on past it; False when it was
        not moved (no longer this consumer's, or Redis failed: it is tried again later)."""
        try:
            moved = await dead_letter(
                self._scripts,
                stream=stream,
                done_key=done_key,
                dlq=self._keys.dead_letters(self._streams.index(stream)),
                group=CONSUMER_GROUP,
                consumer=self._consumer,
                entry_id=entry_id,
                reason=reason,
            )
        except REDIS_FAILURES as e:
            self._outage.failed(e)
            return False
        self._on_moved((stream, entry_id))
        return moved

    async def move_unreadable(self, entries: list[Unreadable]) -> None:
        for entry in entries:
            # Its conversation is unknown: the pointer moved is a shard-wide placeholder.
            shard = self._streams.index(entry.stream)
            done_key = self._keys.done(shard, "-")
            await self.move(entry.stream, entry.entry_id, done_key, entry.reason)
