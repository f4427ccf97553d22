"""Bot state on a Redis Cluster: conversation state in its shard's slot, committed with the
stream entry in one script; user state in its own slot, written first (decision 0012)."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from tests.worker.runtime.delivery.commits import Delivered, commit_for
from worker.bot.errors import TakenOver
from worker.bot.redis_storage import RedisStorage
from worker.bot.storage import EtagConflict
from worker.runtime.delivery.entry_commit import EntryCommit

CONVERSATION = "msteams/conversations/19:a%2Fb"
"""A conversation id holding '/' (escaped in the storage key)."""
USER = "msteams/users/29:ann"


async def _pending_entry(
    redis: Redis, keys: Keyspace, consumer: str, scripts: RespExecutor
) -> EntryCommit:
    shard = keys.shard_of("msteams/19:a/b")
    stream = keys.stream(shard)
    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
    await redis.xadd(stream, {"e": b"x"})
    answer: Any = await redis.xreadgroup(CONSUMER_GROUP, consumer, {stream: ">"})
    entry_id = answer[0][1][0][0].decode()
    entry = Delivered(
        stream,
        entry_id,
        keys.done(shard, "msteams/19:a/b"),
        keys.sent(shard, entry_id),
        consumer,
        keys.starts(shard, entry_id),
    )
    return commit_for(entry, redis, scripts)


def test_conversation_state_shares_the_slot_of_its_stream(cluster_keys: Keyspace) -> None:
    shard = cluster_keys.shard_of("msteams/19:a/b")
    stream_slot = key_slot(cluster_keys.stream(shard).encode())
    assert key_slot(cluster_keys.state(CONVERSATION).encode()) == stream_slot
    private = f"{CONVERSATION}/users/29:ann"
    assert key_slot(cluster_keys.state(private).encode()) == stream_slot
    assert cluster_keys.state(USER) == f"{cluster_keys.prefix}:state:{USER}"
    # On one server the layout is unchanged.
    plain = Keyspace(cluster_keys.prefix, cluster_keys.shards)
    assert plain.state(CONVERSATION) == f"{plain.prefix}:state:{CONVERSATION}"


async def test_a_turn_commits_user_and_conversation_state_across_slots(
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    cluster_scripts: RespExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TURNSTREAM_SHARDS", str(cluster_keys.shards))
    storage = RedisStorage(cluster_redis, key_prefix=cluster_keys.prefix)
    ack = await _pending_entry(cluster_redis, cluster_keys, "w1", cluster_scripts)
    etags = await storage.write_for_turn(
        {CONVERSATION: {"n": 1}, USER: {"name": "Ann"}}, ack, final=True
    )

    assert ack.committed
    items = await storage.read([CONVERSATION, USER])
    assert items[CONVERSATION] == {"n": 1, "e_tag": etags[CONVERSATION]}
    assert items[USER] == {"name": "Ann", "e_tag": etags[USER]}
    summary: Any = await cluster_redis.xpending(ack.stream, CONSUMER_GROUP)
    assert summary["pending"] == 0
    assert (await cluster_redis.get(ack.done_key)) == ack.entry_id.encode()


async def test_a_user_state_conflict_writes_nothing(
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    cluster_scripts: RespExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TURNSTREAM_SHARDS", str(cluster_keys.shards))
    storage = RedisStorage(cluster_redis, key_prefix=cluster_keys.prefix)
    await storage.write({USER: {"name": "Ann"}})
    ack = await _pending_entry(cluster_redis, cluster_keys, "w1", cluster_scripts)
    with pytest.raises(EtagConflict):
        await storage.write_for_turn(
            {CONVERSATION: {"n": 1}, USER: {"name": "Bo", "e_tag": "stale"}}, ack, final=True
        )
    assert not ack.committed
    assert await storage.read([CONVERSATION]) == {}
    summary: Any = await cluster_redis.xpending(ack.stream, CONSUMER_GROUP)
    assert summary["pending"] == 1


async def test_the_fence_holds_for_the_conversation_slot(
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    cluster_scripts: RespExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker that lost its entry cannot commit the conversation's state; its user-state
    write (another slot, written first) stays: the documented per-slot limit."""
    monkeypatch.setenv("TURNSTREAM_SHARDS", str(cluster_keys.shards))
    storage = RedisStorage(cluster_redis, key_prefix=cluster_keys.prefix)
    ack = await _pending_entry(cluster_redis, cluster_keys, "w1", cluster_scripts)
    await cluster_redis.xclaim(ack.stream, CONSUMER_GROUP, "w2", 0, [ack.entry_id])
    with pytest.raises(TakenOver):
        await storage.write_for_turn(
            {CONVERSATION: {"n": 1}, USER: {"name": "Ann"}}, ack, final=True
        )
    assert set(await storage.read([CONVERSATION, USER])) == {USER}
