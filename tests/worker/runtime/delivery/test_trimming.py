"""Trimming keeps what is unread or uncommitted, and removes the rest."""

from __future__ import annotations

from typing import Any

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from tests.support.activities import message
from tests.support.streams import enqueue
from worker.runtime.delivery.trimming import trim_acknowledged


async def test_only_read_and_acknowledged_entries_go(redis: Redis, keys: Keyspace) -> None:
    stream = keys.stream(keys.shard_of("test/conv-1"))
    ids = [await enqueue(redis, keys, message(str(n), activity_id=str(n))) for n in range(6)]
    assert await trim_acknowledged(redis, keys.streams(), CONSUMER_GROUP) == 0  # no group yet

    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0")
    read: Any = await redis.xreadgroup(CONSUMER_GROUP, "w", {stream: ">"}, count=4)  # 0..3 read
    assert [m[0].decode() for m in read[0][1]] == ids[:4]
    await redis.xack(stream, CONSUMER_GROUP, ids[0], ids[1], ids[3])  # 2 is still pending

    assert await trim_acknowledged(redis, keys.streams(), CONSUMER_GROUP) == 2
    remaining: Any = await redis.xrange(stream)
    # 2 (pending), 3 (acknowledged but after a pending one), 4 and 5 (never read) stay
    assert [r[0].decode() for r in remaining] == ids[2:]

    await redis.xack(stream, CONSUMER_GROUP, ids[2])
    assert await trim_acknowledged(redis, keys.streams(), CONSUMER_GROUP) == 2
    rest: Any = await redis.xrange(stream)
    assert [r[0].decode() for r in rest] == ids[4:]  # never read: kept
