"""Looking into (and appending to) the shard streams, as the gateway and the workers see them."""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis.exceptions import ResponseError

from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace, conversation_key
from shared.redis.connection import Redis


async def stream_lengths(redis: Redis, keys: Keyspace) -> int:
    """Entries across every shard stream of a keyspace."""
    total = 0
    for stream in keys.streams():
        total += await redis.xlen(stream)
    return total


async def envelopes_in(redis: Redis, stream: str) -> list[Envelope]:
    """Every envelope in a stream, oldest first."""
    entries: Any = await redis.xrange(stream)
    return [Envelope.decode(fields[ENVELOPE_FIELD.encode()]) for _id, fields in entries]


async def enqueue(redis: Redis, keys: Keyspace, activity: dict[str, Any]) -> str:
    """Append an activity to its shard stream with the gateway's own script (chained after the
    conversation's previous entry; no dedupe)."""
    conversation = conversation_key(activity["channelId"], activity["conversation"]["id"])
    envelope = Envelope(orjson.dumps(activity), conversation, time.time())
    entry_id: Any = await redis.eval(
        ENQUEUE_SCRIPT, ENQUEUE_KEYS, *enqueue_arguments(keys, conversation, envelope.encode())
    )
    return str(entry_id.decode())


async def pending_count(redis: Redis, keys: Keyspace) -> int:
    """Entries delivered to a consumer and not acknowledged, across every shard."""
    total = 0
    for stream in keys.streams():
        try:
            summary: Any = await redis.xpending(stream, CONSUMER_GROUP)
        except ResponseError as e:  # no worker has created the group yet
            assert "NOGROUP" in str(e)
            continue
        total += summary["pending"]
    return total
