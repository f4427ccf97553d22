"""The ownership fence, written once: a stream entry's turn may change Redis only while the
entry is still pending with this worker's consumer.

A worker frozen past the claim timeout (GC, CPU throttling, a paused VM) loses its entries to
another worker (`worker.runtime.delivery.takeover`). When it wakes up, nothing it does for those
entries may reach Redis: so every script that writes for a turn checks ownership itself, in the
same atomic step as its writes, with the Lua function below. A check made before the write, in
another round trip, would leave the gap the fence exists to close.

`OWNS` is prepended to every such script (`HOLDER` instead where an acknowledged entry and one
taken over are answered apart: the commit of a turn without state, the count of a try): that
commit (`acks`), the
record of sent replies (`send_journal`), dead letters (`dead_letters`), renewals (`takeover`),
and — through `fenced()` — every write a turn asks of its commit object (`entry_commit`): bot
state, deletes, transcripts, proactive enqueues, and the end-of-turn commit.

`fenced()` also refuses the writes of an earlier try of the turn on the same worker. A write
whose answer never came back (Redis stalled past the timeout, a connection broke) may still be
applied later, from a socket buffer, after the turn was retried in place; each try past the
first counts itself in the entry's `starts` key (`worker.runtime.delivery.attempts`), and a
write carries the count its try began with, so a stale try's write finds the count moved on.
"""

from __future__ import annotations

from shared.protocol.keys import CHAIN_TTL_SECONDS

OWNS = """
local function owns(stream, group, entry, consumer)
  local rows = redis.call('XPENDING', stream, group, entry, entry, 1)
  if #rows > 0 and rows[1][2] == consumer then
    return rows[1]
  end
  return false
end
"""
"""`owns(stream, group, entry, consumer)`: the entry's pending row (id, consumer, idle ms,
deliveries) if it is pending with that consumer, else false (acknowledged, or taken over)."""

HOLDER = """
local function holder(stream, group, entry)
  local rows = redis.call('XPENDING', stream, group, entry, entry, 1)
  if #rows == 0 then
    return false
  end
  return rows[1][2]
end
"""
"""`holder(stream, group, entry)`: the consumer the entry is pending with, or false when it is
not pending (acknowledged): for scripts that answer those two cases apart, where `owns` says
only whether it is this consumer's."""

FENCED = "FENCED"
"""The error a fenced script answers when the entry is not this consumer's any more."""

CURRENT = """
local function current(starts, try)
  return (tonumber(redis.call('GET', starts)) or 0) == tonumber(try)
end
"""
"""`current(starts key, try)`: whether the entry's count of tries is still the one this try
began with (0 for the first try of an entry read here, which counts nothing)."""

_FENCE_KEYS = 4
"""KEYS of `fenced()` before the body's own: the stream, the done pointer, the sent record, the
count of tries."""
_FENCE_ARGS = 5
"""ARGV of `fenced()` before the body's own: group, entry id, consumer, '1' to commit, the try's
count."""


def fenced(body: str) -> str:
    """A script that runs `body` (a store's own script, reading its own KEYS and ARGV) only if
    the entry is still this consumer's and this try's, and, when asked to commit and the body
    answered 0, moves the conversation's done pointer to the entry, deletes its record of sent
    replies and acknowledges it, in the same atomic step: state committed means entry
    acknowledged.

    KEYS: the shard stream, the conversation's done pointer, the entry's record of sent replies,
    its count of tries (one slot), then the body's keys. ARGV: group, entry id, consumer, '1'
    to commit or '0', the count the try began with, then the body's arguments. Answers the
    error FENCED, having run nothing, when another consumer owns the entry (or it was
    acknowledged) or a later try began; else what the body answered.
    """
    return f"""{OWNS}{CURRENT}
local function body(KEYS, ARGV)
{body}
end
if not owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  return redis.error_reply('{FENCED} entry ' .. ARGV[2] .. ' is not owned by ' .. ARGV[3])
end
if not current(KEYS[4], ARGV[5]) then
  return redis.error_reply('{FENCED} entry ' .. ARGV[2] .. ': a later try began')
end
local result = body({{unpack(KEYS, {_FENCE_KEYS + 1})}}, {{unpack(ARGV, {_FENCE_ARGS + 1})}})
if ARGV[4] == '1' and result == 0 then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', {CHAIN_TTL_SECONDS})
  redis.call('DEL', KEYS[3])
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
end
return result
"""


def is_fenced(error: BaseException) -> bool:
    """Whether a script's error reply is the fence's refusal."""
    return str(error).startswith(FENCED)
