"""Dead letters: an entry that cannot be processed (unreadable, or delivered too many times
without success) moves to its shard's dead-letter stream with the reason, and its conversation
moves on. `turnstream dlq` lists, shows, replays and purges them."""

from __future__ import annotations

import logging
import time

from shared.protocol.keys import CHAIN_TTL_SECONDS
from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.fence import OWNS
from worker.runtime.delivery.scripts import Script

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
