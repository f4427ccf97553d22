"""The conversation chain's enqueue script: what every writer of a shard stream runs (the
gateway's hot path, proactive messages, dead-letter replay), so that each entry names its
conversation's previous entry and workers can keep the conversation's turns in order."""

from __future__ import annotations

from shared.protocol.keys import CHAIN_TTL_SECONDS, ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace

# Dedupe, append and chain in one atomic step, inside the shard's slot: a retried activity id
# is refused while its marker lives; anything else becomes one stream entry that names the
# conversation's previous entry, so workers can run the conversation's turns strictly in order.
ENQUEUE_SCRIPT = f"""
if ARGV[3] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return false
end
local previous = redis.call('GET', KEYS[3]) or ''
local id = redis.call(
  'XADD', KEYS[1], '*', '{ENVELOPE_FIELD}', ARGV[1], '{PREVIOUS_FIELD}', previous)
redis.call('SET', KEYS[3], id, 'EX', {CHAIN_TTL_SECONDS})
return id
"""
"""KEYS: stream, dedupe marker, the conversation's last-entry pointer. ARGV: envelope, dedupe
window, '1' to dedupe (the activity has an id) or '0'."""


ENQUEUE_KEYS = 3


def enqueue_arguments(
    keys: Keyspace, conversation: str, envelope: bytes, *, dedupe_window: int = 60
) -> list[str | bytes | int]:
    """KEYS (ENQUEUE_KEYS of them) then ARGV of ENQUEUE_SCRIPT for one activity, without dedupe:
    for callers off the hot path (dead-letter replay, tests, benchmarks) that EVAL it."""
    shard = keys.shard_of(conversation)
    return [
        keys.stream(shard),
        keys.seen(shard, conversation, None),
        keys.last(shard, conversation),
        envelope,
        dedupe_window,
        "0",
    ]
