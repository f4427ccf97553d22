"""The scripts of scheduled turns (shared.protocol.schedule): each touches one shard's due set,
records and keys, in the shard's slot beside its stream; the fire script also appends to that
stream, chained as every writer of a shard stream chains (shared.protocol.chain)."""

from __future__ import annotations

from shared.protocol.keys import CHAIN_TTL_SECONDS, ENVELOPE_FIELD, PREVIOUS_FIELD

SCHEDULE_SCRIPT = """
if ARGV[4] ~= '' then
  local old = redis.call('HGET', KEYS[3], ARGV[4])
  if old then
    redis.call('ZREM', KEYS[1], old)
    redis.call('HDEL', KEYS[2], old)
  end
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return ARGV[1]
"""
"""KEYS: due set, records, keys. ARGV: id, due (ms), record, key field ('' for none). A key
already naming a turn replaces that turn (same key, same conversation: one turn)."""

CANCEL_SCRIPT = """
local id = ARGV[1]
if id == '' then
  id = redis.call('HGET', KEYS[3], ARGV[2])
  if not id then return 0 end
end
local record = redis.call('HGET', KEYS[2], id)
if not record then return 0 end
redis.call('ZREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
local field = cjson.decode(record)['f']
if field and field ~= '' and redis.call('HGET', KEYS[3], field) == id then
  redis.call('HDEL', KEYS[3], field)
end
return 1
"""
"""KEYS: due set, records, keys. ARGV: id, or '' and a key field. Answers 1 if a turn was
cancelled, 0 if there was none (fired already, cancelled, never scheduled)."""

FIRE_SCRIPT = f"""
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
local recorded = redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[3] ~= '' and redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[1] then
  redis.call('HDEL', KEYS[3], ARGV[3])
end
if recorded == 0 or ARGV[2] == '' then return false end
local previous = redis.call('GET', KEYS[5]) or ''
local id = redis.call(
  'XADD', KEYS[4], '*', '{ENVELOPE_FIELD}', ARGV[2], '{PREVIOUS_FIELD}', previous)
redis.call('SET', KEYS[5], id, 'EX', {CHAIN_TTL_SECONDS})
return id
"""
"""KEYS: due set, records, keys, the shard's stream, the conversation's last-entry pointer.
ARGV: id, envelope ('' to drop the turn), key field. Queues the turn (as the enqueue script of
shared.protocol.chain does) only if this call removed the id from the due set: exactly once.
Answers the entry id, or nil when another call moved or cancelled it first, or it was dropped
(an id without a record, a record no longer valid)."""
