"""Handing an entry to the one worker that can run it: a proactive turn whose callback is kept
in that worker's memory (worker.runtime.local_callbacks). Whoever reads the entry passes it on,
fenced like every write for an entry; the holder picks up what was passed to it."""

from __future__ import annotations

from typing import Any, cast

from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.fence import OWNS
from worker.runtime.delivery.scripts import Script

HAND_OVER_SCRIPT = f"""{OWNS}
if not owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  return 0
end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[4], 0, ARGV[2], 'JUSTID')
return 1
"""
"""KEYS: the shard stream. ARGV: group, entry id, this consumer, the holder. Makes the holder
the entry's owner (idle time reset: nobody takes it over while the holder picks it up), only
while the entry is still this consumer's. 0 if it is not."""
_HAND_OVER = Script(HAND_OVER_SCRIPT)

PICK_UP_SCRIPT = f"""{OWNS}
local found = {{}}
for i = 3, #ARGV do
  if owns(KEYS[1], ARGV[1], ARGV[i], ARGV[2]) then
    for _, entry in ipairs(redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i])) do
      table.insert(found, entry)
    end
  end
end
return found
"""
"""KEYS: a shard stream. ARGV: group, this consumer, entry ids. The entries among them that are
pending with this consumer (handed over to it), with their fields, their idle time reset."""
_PICK_UP = Script(PICK_UP_SCRIPT)

FINISHED_SCRIPT = """
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #rows > 0 then
  return 0
end
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then last = group[i + 1] end
  end
  if name == ARGV[1] and last then
    local last_ms, last_seq = parts(last)
    local ms, seq = parts(ARGV[2])
    if last_ms > ms or (last_ms == ms and last_seq >= seq) then
      return 1
    end
  end
end
return 0
"""
"""KEYS: a shard stream. ARGV: group, entry id. 1 if the entry was delivered and is no longer
pending: acknowledged, by a commit or a dead letter. 0 while it waits or runs."""
_FINISHED = Script(FINISHED_SCRIPT)


async def hand_over(
    scripts: RespExecutor, group: str, consumer: str, stream: str, entry_id: str, holder: str
) -> bool:
    """Make `holder` the owner of an entry `consumer` owns; False if `consumer` does not."""
    (result,) = await _HAND_OVER.run(scripts, [((stream,), (group, entry_id, consumer, holder))])
    if isinstance(result, Exception):
        raise result
    return result == 1


async def pick_up(
    scripts: RespExecutor, group: str, consumer: str, wanted: dict[str, list[str]]
) -> list[tuple[str, list[Any]]]:
    """The wanted entries (ids by stream) handed over to `consumer`, claimed, as XREADGROUP
    answers them: [(stream, [(id, fields), ...]), ...]."""
    streams = list(wanted)
    results = await _PICK_UP.run(
        scripts, [((stream,), (group, consumer, *wanted[stream])) for stream in streams]
    )
    found = []
    for stream, result in zip(streams, results, strict=True):
        if isinstance(result, Exception):
            raise result
        entries = [(entry[0], _fields(entry[1])) for entry in cast(list[Any], result) if entry[1]]
        if entries:
            found.append((stream, entries))
    return found


async def finished(scripts: RespExecutor, group: str, entries: list[tuple[str, str]]) -> list[bool]:
    """For each (stream, entry id): whether it was acknowledged (committed or dead-lettered)."""
    results = await _FINISHED.run(
        scripts, [((stream,), (group, entry)) for stream, entry in entries]
    )
    for result in results:
        if isinstance(result, Exception):
            raise result
    return [result == 1 for result in results]


def _fields(flat: list[Any]) -> dict[bytes, bytes]:
    """A flat [field, value, ...] list (as a script answers) as XREADGROUP's dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
