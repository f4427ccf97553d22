from __future__ import annotations

import zlib

import pytest

from shared.protocol.keys import (
    MAX_ACTIVITY_ID_LENGTH,
    MAX_CHANNEL_ID_LENGTH,
    MAX_CONVERSATION_ID_LENGTH,
    MAX_STORAGE_KEY_LENGTH,
    BadId,
    Keyspace,
    conversation_key,
    storage_key_part,
)


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


def test_ids_that_could_collide_give_different_keys() -> None:
    keys = Keyspace("p", 1)
    # A ':' moved between the conversation id and the activity id names another activity.
    first = keys.seen(0, conversation_key("msteams", "a:b"), "c")
    second = keys.seen(0, conversation_key("msteams", "a"), "b:c")
    assert first != second
    assert keys.seen(0, "msteams/a", "b%3Ac") != second  # the escape itself is escaped
    # A '/' in an id cannot make one state key into another.
    assert storage_key_part("19:x/users/u") == "19:x%2Fusers%2Fu"
    assert storage_key_part("plain-19:abc@thread.v2") == "plain-19:abc@thread.v2"


@pytest.mark.parametrize(
    ("channel", "conversation", "needle"),
    [
        ("ms/teams", "c", "channelId"),
        ("", "c", "channelId"),
        ("x" * (MAX_CHANNEL_ID_LENGTH + 1), "c", "channelId"),
        ("msteams", "", "conversation.id"),
        ("msteams", "c" * (MAX_CONVERSATION_ID_LENGTH + 1), "conversation.id"),
    ],
)
def test_ids_out_of_bounds_cannot_become_keys(channel: str, conversation: str, needle: str) -> None:
    with pytest.raises(BadId, match=needle):
        conversation_key(channel, conversation)


def test_overlong_activity_ids_and_storage_keys_are_refused() -> None:
    keys = Keyspace("p", 1)
    with pytest.raises(BadId, match="id"):
        keys.seen(0, "t/c", "a" * (MAX_ACTIVITY_ID_LENGTH + 1))
    with pytest.raises(BadId, match="storage key"):
        keys.state("k" * (MAX_STORAGE_KEY_LENGTH + 1))
    assert keys.state("") == "p:state:"
