"""`turnstream status` and `turnstream dlq` on a Redis Cluster: every command names one key."""

from __future__ import annotations

import time

import orjson

from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, Keyspace, conversation_key
from shared.redis.connection import Redis
from tests.support.activities import message
from tests.support.streams import enqueue
from turnstream import ops


async def test_status_and_dead_letters_on_a_cluster(
    cluster_redis: Redis, cluster_keys: Keyspace
) -> None:
    for i in range(6):
        await enqueue(cluster_redis, cluster_keys, message("hi", conversation=f"c{i}"))
    report = await ops.status(cluster_redis, cluster_keys)
    assert report["totals"]["length"] == 6
    assert len(report["shards"]) == cluster_keys.shards

    activity = message("dead", activity_id="d1", conversation="c9")
    conversation = conversation_key("test", "c9")
    shard = cluster_keys.shard_of(conversation)
    envelope = Envelope(orjson.dumps(activity), conversation, time.time()).encode()
    await cluster_redis.xadd(
        cluster_keys.dead_letters(shard),
        {
            "stream": cluster_keys.stream(shard),
            "entry": "1-0",
            "reason": "test",
            "deliveries": "5",
            "at": str(time.time()),
            ENVELOPE_FIELD: envelope,
        },
    )
    (listed,) = await ops.dead_letters(cluster_redis, cluster_keys)
    assert listed["activity_id"] == "d1"
    await ops.replay(cluster_redis, cluster_keys, listed["id"])
    assert await ops.dead_letters(cluster_redis, cluster_keys) == []
    assert (await ops.status(cluster_redis, cluster_keys))["totals"]["length"] == 7
