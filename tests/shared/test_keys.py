from __future__ import annotations

import zlib

from shared.keys import Keyspace, conversation_key


def test_every_key_of_a_shard_shares_its_hash_tag() -> None:
    keys = Keyspace("p", 8)
    conversation = conversation_key("msteams", "19:abc{x}@thread.skype")
    shard = keys.shard_of(conversation)
    assert keys.stream(shard) == f"p:{{{shard}}}:in"
    seen = keys.seen(shard, conversation, "act-1")
    assert seen.startswith(f"p:{{{shard}}}:")  # the first {...} decides the cluster slot
    assert keys.streams() == [f"p:{{{n}}}:in" for n in range(8)]


def test_sharding_is_stable_and_spread() -> None:
    keys = Keyspace("p", 16)
    assert keys.shard_of("test/c1") == zlib.crc32(b"test/c1") % 16
    shards = {keys.shard_of(f"test/conv-{i}") for i in range(200)}
    assert shards == set(range(16))


def test_a_worker_heartbeat_is_named_by_its_stable_id() -> None:
    assert (
        Keyspace("p", 4).worker_heartbeat("worker-7d9f-abc") == "p:worker:worker-7d9f-abc:heartbeat"
    )
