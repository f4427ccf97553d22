"""The conversation registry on the real server: what an activity records, and finding the
conversations of a conversation id, a user or a channel/tenant/team query again."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.protocol.keys import Keyspace
from shared.protocol.proactive import BadReference
from shared.protocol.registry import ConversationRegistry, Entry, Target
from shared.redis.connection import Redis


def _teams(
    conversation: str, user: str, *, tenant: str = "t-1", team: str | None = None
) -> dict[str, Any]:
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
    if team is not None:
        channel_data["team"] = {"id": team}
    return {
        "type": "message",
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "conversation": {"id": conversation, "tenantId": tenant},
        "from": {"id": user, "name": user.upper()},
        "recipient": {"id": "28:bot", "name": "Bot"},
        "locale": "en-GB",
        "channelData": channel_data,
    }


async def _record(registry: ConversationRegistry, activity: dict[str, Any]) -> None:
    entry = Entry.of(activity)
    assert entry is not None
    await registry.record(entry)


async def test_each_way_to_name_conversations_finds_their_latest_reference(
    redis: Redis, keys: Keyspace
) -> None:
    registry = ConversationRegistry(redis, keys, 3600)
    await _record(registry, _teams("a:1", "29:ann"))
    await _record(registry, _teams("19:general", "29:ann", team="team-1"))
    await _record(registry, _teams("19:general", "29:bob", team="team-1"))
    await _record(registry, _teams("a:2", "29:bob", tenant="t-2"))
    moved = _teams("a:1", "29:ann") | {"serviceUrl": "https://smba.trafficmanager.net/amer/"}
    await _record(registry, moved)  # the latest reference wins

    (one,) = await registry.references(Target.parse({"conversation": "msteams/a:1"}))
    assert one == {
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/amer/",
        "conversation": {"id": "a:1", "tenantId": "t-1"},
        "user": {"id": "29:ann", "name": "29:ANN"},
        "bot": {"id": "28:bot", "name": "Bot"},
        "locale": "en-GB",
    }

    async def ids(**to: str) -> list[str]:
        found = await registry.references(Target.parse(to))
        return sorted(r["conversation"]["id"] for r in found)

    assert await ids(user="29:ann", channel="msteams") == ["19:general", "a:1"]
    assert await ids(user="29:ann", channel="webchat") == []
    assert await ids(team="team-1") == ["19:general"]
    assert await ids(tenant="t-1") == ["19:general", "a:1"]
    assert await ids(tenant="t-1", team="team-1") == ["19:general"]
    assert await ids(channel="msteams") == ["19:general", "a:1", "a:2"]
    assert await ids(channel="msteams", tenant="t-2") == ["a:2"]
    assert await ids(conversation="msteams/unknown") == []

    general = await registry.conversation("msteams/19:general")
    assert general is not None
    assert (general["users"], general["tenant"], general["team"]) == (
        ["29:bob", "29:ann"],
        "t-1",
        "team-1",
    )
    ttl = await redis.ttl(keys.registry_conversation("msteams/a:1"))
    assert 3500 < ttl <= 3600


async def test_conversations_past_the_ttl_are_pruned_when_read(
    redis: Redis, keys: Keyspace
) -> None:
    registry = ConversationRegistry(redis, keys, 3600)
    await _record(registry, _teams("a:1", "29:ann"))
    await _record(registry, _teams("a:2", "29:ann"))
    index = keys.registry_index("user", "msteams/29:ann")
    await redis.zadd(index, {"msteams/a:2": round((time.time() - 7200) * 1000)})  # seen long ago

    found = await registry.references(Target.parse({"user": "29:ann", "channel": "msteams"}))

    assert [r["conversation"]["id"] for r in found] == ["a:1"]
    assert await redis.zrange(index, 0, -1) == [b"msteams/a:1"]


def test_an_activity_without_a_usable_reference_records_nothing() -> None:
    assert Entry.of({"type": "message", "channelId": "msteams"}) is None
    assert Entry.of(_teams("a:1", "u") | {"serviceUrl": "ftp://x"}) is None
    entry = Entry.of(_teams("a:1", "u", tenant="x" * 600))
    assert entry is not None and entry.tenant is None  # not indexed past the bound


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ({}, "to must be an object"),
        ([], "to must be an object"),
        ({"conversation": "no-slash"}, "channelId/conversationId"),
        ({"conversation": "bad channel/x"}, "channelId must be"),
        ({"conversation": "msteams/x", "tenant": "t"}, "goes alone"),
        ({"user": "u"}, "with to.channel only"),
        ({"user": "u", "channel": "c", "team": "t"}, "with to.channel only"),
        ({"tenant": 5}, "non-empty string"),
        ({"group": "g"}, "unknown fields: group"),
    ],
)
def test_a_bad_target_is_refused_with_the_reason(to: object, message: str) -> None:
    with pytest.raises(BadReference, match=message):
        Target.parse(to)
