"""The conversation registry: the latest reference of every conversation a bot talked in, and
who was in it, so that operators can reach a user, a conversation or a channel/tenant/team
without having kept references themselves (`POST /api/proactive` with `to`, `turnstream send
--to-...`).

Workers record what users send (`worker.runtime.conversation_registry`, at most once an hour per
conversation and user and process, or when the reference changes). A record is a string with a
TTL (`TURNSTREAM_CONVERSATION_REGISTRY_TTL_SECONDS`, renewed by every recording); the indexes
(per user, channel, tenant, team; the members of each conversation) are sorted sets of
conversations scored by when they were last seen, pruned past the TTL when read and expiring
as a whole. The keys have no hash tag: a registry spans every shard (on a cluster, a recording
is a pipeline of single-key commands).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared.protocol.keys import MAX_USER_ID_LENGTH, BadId, Keyspace, conversation_key
from shared.protocol.proactive import MAX_REFERENCES, BadReference, continuation_activity
from shared.redis.connection import Redis

MAX_INDEXED_ID_LENGTH = 512
"""A tenant or team id longer than this is not indexed (real ones are ~40 characters)."""


@dataclass(frozen=True)
class Entry:
    """What one activity tells the registry."""

    conversation: str
    reference: dict[str, Any]
    user: str | None
    tenant: str | None
    team: str | None

    @classmethod
    def of(cls, activity: Mapping[str, Any]) -> Entry | None:
        """The entry of a user's activity; None if it has no usable conversation reference."""
        conversation = activity.get("conversation")
        reference: dict[str, Any] = {
            "channelId": activity.get("channelId"),
            "serviceUrl": activity.get("serviceUrl"),
            "conversation": conversation,
        }
        for wire, field in (("from", "user"), ("recipient", "bot"), ("locale", "locale")):
            if activity.get(wire) is not None:
                reference[field] = activity[wire]
        try:
            continuation_activity(reference)  # what a proactive turn will need of it
        except BadReference:
            return None
        assert isinstance(conversation, Mapping)
        user = reference.get("user", {}).get("id")
        channel_data = activity.get("channelData")
        channel_data = channel_data if isinstance(channel_data, Mapping) else {}
        tenant = conversation.get("tenantId") or _id(channel_data.get("tenant"))
        return cls(
            conversation_key(reference["channelId"], conversation["id"]),
            reference,
            user if isinstance(user, str) and user else None,
            _bounded(tenant),
            _bounded(_id(channel_data.get("team"))),
        )


@dataclass(frozen=True)
class Target:
    """Whom an operator sends to: one conversation, a user's conversations, or the
    conversations of a channel, tenant or team (a stored query: every field given must match)."""

    conversation: str | None = None
    user: str | None = None
    """`channelId/userId`: a user id means something within its channel only."""
    channel: str | None = None
    tenant: str | None = None
    team: str | None = None

    @classmethod
    def parse(cls, doc: object) -> Target:
        """From `{"conversation": "channelId/conversationId"}`, `{"user": id, "channel": id}`
        or `{"channel"?, "tenant"?, "team"?}`; raises `BadReference`."""
        if not isinstance(doc, Mapping) or not doc:
            raise BadReference("to must be an object: conversation, user or a query")
        unknown = set(doc) - {"conversation", "user", "channel", "tenant", "team"}
        if unknown:
            raise BadReference(f"to has unknown fields: {', '.join(sorted(unknown))}")
        if not all(isinstance(value, str) and 0 < len(value) <= 1100 for value in doc.values()):
            raise BadReference("every field of to must be a non-empty string")
        if "conversation" in doc:
            if len(doc) > 1:
                raise BadReference("to.conversation goes alone")
            channel, slash, conversation_id = doc["conversation"].partition("/")
            if not slash:
                raise BadReference("to.conversation is channelId/conversationId")
            try:
                return cls(conversation=conversation_key(channel, conversation_id))
            except BadId as e:
                raise BadReference(str(e)) from None
        if "user" in doc:
            if set(doc) != {"user", "channel"} or len(doc["user"]) > MAX_USER_ID_LENGTH:
                raise BadReference("to.user goes with to.channel only (user ids are per channel)")
            return cls(user=f"{doc['channel']}/{doc['user']}")
        return cls(channel=doc.get("channel"), tenant=doc.get("tenant"), team=doc.get("team"))


class ConversationRegistry:
    """Records conversations (`record`) and finds them again (`references`, `conversation`)."""

    def __init__(self, redis: Redis, keys: Keyspace, ttl_seconds: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl_seconds

    async def record(self, entry: Entry) -> None:
        """Store the entry's reference as its conversation's latest, in every index it
        belongs to; each renewed for the TTL."""
        now = round(time.time() * 1000)
        record = orjson.dumps(
            {"reference": entry.reference, "tenant": entry.tenant, "team": entry.team, "seen": now}
        )
        indexes = [("channel", entry.reference["channelId"])]
        if entry.user is not None:
            indexes.append(("user", f"{entry.reference['channelId']}/{entry.user}"))
        if entry.tenant is not None:
            indexes.append(("tenant", entry.tenant))
        if entry.team is not None:
            indexes.append(("team", entry.team))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.registry_conversation(entry.conversation), record, ex=self._ttl)
            for kind, value in indexes:
                key = self._keys.registry_index(kind, value)
                pipe.zadd(key, {entry.conversation: now})
                pipe.expire(key, self._ttl)
            if entry.user is not None:
                members = self._keys.registry_index("members", entry.conversation)
                pipe.zadd(members, {entry.user: now})
                pipe.expire(members, self._ttl)
            await pipe.execute()

    async def conversation(self, conversation: str) -> dict[str, Any] | None:
        """A conversation's record with its users (most recent first), or None."""
        raw: Any = await self._redis.get(self._keys.registry_conversation(conversation))
        if raw is None:
            return None
        record: dict[str, Any] = orjson.loads(raw)
        users = await self._live(self._keys.registry_index("members", conversation), 1000)
        return {"conversation": conversation, **record, "users": users[::-1]}

    async def references(self, target: Target) -> list[dict[str, Any]]:
        """The latest references of the target's conversations (at most MAX_REFERENCES: a
        query matching more raises `BadReference`, to be narrowed)."""
        if target.conversation is not None:
            conversations = [target.conversation]
        elif target.user is not None:
            conversations = await self._live(self._keys.registry_index("user", target.user))
        else:
            kind, value = next(
                (kind, value)
                for kind, value in (
                    ("team", target.team),
                    ("tenant", target.tenant),
                    ("channel", target.channel),
                )
                if value is not None
            )
            conversations = await self._live(self._keys.registry_index(kind, value))
        records = await self._records(conversations)
        found = [r["reference"] for r in records if r is not None and _matches(r, target)]
        if len(found) > MAX_REFERENCES:
            raise BadReference(
                f"the target matches more than {MAX_REFERENCES} conversations: narrow it"
            )
        return found

    async def _live(self, key: str, limit: int = MAX_REFERENCES + 1) -> list[str]:
        """An index's members seen within the TTL, oldest first; the others pruned."""
        since = round((time.time() - self._ttl) * 1000)
        await self._redis.zremrangebyscore(key, "-inf", f"({since}")
        members: Any = await self._redis.zrangebyscore(key, since, "+inf", start=0, num=limit)
        return [m.decode() for m in members]

    async def _records(self, conversations: list[str]) -> list[dict[str, Any] | None]:
        if not conversations:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:  # GETs: keys of any slot
            for conversation in conversations:
                pipe.get(self._keys.registry_conversation(conversation))
            raws: list[Any] = await pipe.execute()
        return [orjson.loads(raw) if raw is not None else None for raw in raws]


def _matches(record: Mapping[str, Any], target: Target) -> bool:
    return (
        (target.channel is None or record["reference"]["channelId"] == target.channel)
        and (target.tenant is None or record.get("tenant") == target.tenant)
        and (target.team is None or record.get("team") == target.team)
    )


def _id(value: object) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) and found else None


def _bounded(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_INDEXED_ID_LENGTH else None
