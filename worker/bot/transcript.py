"""Transcripts: every activity in and out of a conversation, logged by middleware to Redis (or,
in tests, to memory)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.protocol import codec
from shared.redis.connection import Redis, is_cluster
from shared.schema.activity import Activity, ActivityTypes, ConversationReference, ResourceResponse
from shared.schema.constants import ActivityEventNames
from worker.bot.lazy_redis import LazyRedis
from worker.bot.turn_commit import FencedWrite, TurnCommit
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler

log = logging.getLogger(__name__)

PAGE_SIZE = 20

LOG_SCRIPT = """
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS / 2 do
  redis.call('RPUSH', KEYS[2 * i - 1], ARGV[2 * i + 2])
  redis.call('ZADD', KEYS[2 * i], 'NX', ARGV[2], ARGV[2 * i + 1])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[2 * i - 1], ttl)
  end
end
return 0
"""
"""KEYS: per activity its transcript and its channel's index. ARGV: TTL (0: none), the time,
then per activity its conversation id and its msgpack. What `log_activities` does, as one
script that a turn's commit object runs inside its fence (one server only: on a cluster the
keys of one call span slots)."""


@dataclass
class PagedResult:
    """One page of results; pass `continuation_token` back for the next (None: no more)."""

    items: list[Any] = field(default_factory=list)
    continuation_token: str | None = None


@dataclass
class TranscriptInfo:
    """A transcript in a channel's list."""

    channel_id: str
    id: str
    created: datetime.datetime


@runtime_checkable
class TranscriptLogger(Protocol):
    """Anything that logs activities one at a time (botbuilder's interface: subclass it or just
    have `log_activity`). A logger that also has `log_activities(list)` gets a turn's activities
    in one call."""

    async def log_activity(self, activity: Activity) -> None: ...


class TranscriptStore(TranscriptLogger, Protocol):
    """A logger whose transcripts can be read back, listed and deleted."""

    async def log_activities(self, activities: list[Activity]) -> None: ...

    async def get_transcript_activities(
        self, channel_id: str, conversation_id: str, continuation_token: str | None = None
    ) -> PagedResult: ...

    async def list_transcripts(
        self, channel_id: str, continuation_token: str | None = None
    ) -> PagedResult: ...

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None: ...


class RedisTranscriptStore:
    """A Redis list per conversation (activities as msgpack, oldest first) and a sorted set per
    channel indexing its transcripts. Optional `ttl_seconds` expires idle transcripts."""

    def __init__(
        self,
        client: Redis | None = None,
        *,
        url: str | None = None,
        key_prefix: str | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        self._redis = LazyRedis(client, url=url, key_prefix=key_prefix)
        self._ttl = ttl_seconds

    async def log_activity(self, activity: Activity) -> None:
        """Append one activity to its conversation's transcript."""
        await self.log_activities([activity])

    async def log_activities(self, activities: list[Activity]) -> None:
        """Append activities to their conversations' transcripts in one round trip."""
        if not activities:
            return
        keys = self._redis.keys()
        now = datetime.datetime.now(datetime.UTC).timestamp()
        async with self._redis.client().pipeline(transaction=False) as pipe:
            for activity in activities:
                channel, conversation = _address(activity)
                transcript = keys.transcript(channel, conversation)
                pipe.rpush(transcript, codec.pack(activity.to_dict()))
                pipe.zadd(keys.transcripts(channel), {conversation: now}, nx=True)
                if self._ttl:
                    pipe.expire(transcript, self._ttl)
            await pipe.execute()

    async def log_activities_for_turn(self, activities: list[Activity], commit: TurnCommit) -> None:
        """`log_activities` for a turn: inside the ownership fence of the turn's stream entry on
        one server; after `TurnCommit.ensure_owned` (a check) on a cluster."""
        if not activities:
            return
        client = self._redis.client()
        if is_cluster(client):
            await commit.ensure_owned("transcript")
            await self.log_activities(activities)
            return
        keys = self._redis.keys()
        now = datetime.datetime.now(datetime.UTC).timestamp()
        redis_keys: list[str] = []
        args: list[str | bytes | int] = [self._ttl or 0, repr(now)]
        for activity in activities:
            channel, conversation = _address(activity)
            redis_keys += [keys.transcript(channel, conversation), keys.transcripts(channel)]
            args += [conversation, codec.pack(activity.to_dict())]
        await commit.write(client, [FencedWrite(LOG_SCRIPT, redis_keys, args)])

    async def get_transcript_activities(
        self, channel_id: str, conversation_id: str, continuation_token: str | None = None
    ) -> PagedResult:
        start = _position(continuation_token)
        key = self._redis.keys().transcript(channel_id, conversation_id)
        rows: list[Any] = await self._redis.client().lrange(key, start, start + PAGE_SIZE)
        page = [Activity.from_dict(codec.unpack(row)) for row in rows[:PAGE_SIZE]]
        more = len(rows) > PAGE_SIZE
        return PagedResult(page, str(start + PAGE_SIZE) if more else None)

    async def list_transcripts(
        self, channel_id: str, continuation_token: str | None = None
    ) -> PagedResult:
        start = _position(continuation_token)
        key = self._redis.keys().transcripts(channel_id)
        rows: list[Any] = await self._redis.client().zrange(
            key, start, start + PAGE_SIZE, withscores=True
        )
        page = [
            TranscriptInfo(
                channel_id, member.decode(), datetime.datetime.fromtimestamp(score, datetime.UTC)
            )
            for member, score in rows[:PAGE_SIZE]
        ]
        more = len(rows) > PAGE_SIZE
        return PagedResult(page, str(start + PAGE_SIZE) if more else None)

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None:
        keys = self._redis.keys()
        async with self._redis.client().pipeline(transaction=False) as pipe:
            pipe.delete(keys.transcript(channel_id, conversation_id))
            pipe.zrem(keys.transcripts(channel_id), conversation_id)
            await pipe.execute()

    async def aclose(self) -> None:
        await self._redis.aclose()


class MemoryTranscriptStore:
    """Transcripts in process memory, for tests: what `RedisTranscriptStore` does, with copies
    of the activities kept per channel and conversation in the order they were logged."""

    def __init__(self) -> None:
        self.channels: dict[str, dict[str, list[Activity]]] = {}

    async def log_activity(self, activity: Activity) -> None:
        if activity is None:
            raise TypeError("log_activity needs an activity")
        await self.log_activities([activity])

    async def log_activities(self, activities: list[Activity]) -> None:
        for activity in activities:
            channel, conversation = _address(activity)
            transcript = self.channels.setdefault(channel, {}).setdefault(conversation, [])
            transcript.append(Activity.from_dict(activity.to_dict()))

    async def get_transcript_activities(
        self,
        channel_id: str,
        conversation_id: str,
        continuation_token: str | None = None,
        start_date: datetime.datetime | None = None,
    ) -> PagedResult:
        """A page of the conversation's activities (those at or after `start_date`, if given)."""
        activities = self.channels.get(channel_id, {}).get(conversation_id, [])
        if start_date is not None:
            activities = [a for a in activities if _at_or_after(a, start_date)]
        return _page(activities, continuation_token)

    async def list_transcripts(
        self, channel_id: str, continuation_token: str | None = None
    ) -> PagedResult:
        now = datetime.datetime.now(datetime.UTC)
        infos = [
            TranscriptInfo(channel_id, conversation, _created(activities) or now)
            for conversation, activities in self.channels.get(channel_id, {}).items()
        ]
        return _page(infos, continuation_token)

    async def delete_transcript(self, channel_id: str, conversation_id: str) -> None:
        self.channels.get(channel_id, {}).pop(conversation_id, None)


class TranscriptLoggerMiddleware:
    """Logs the turn's inbound activity and everything the bot sends, updates and deletes, in
    one write after the turn. A failing store is logged, never fails the turn. The event that
    starts a proactive turn (`ContinueConversation`) is not logged, as in botbuilder; what
    that turn sends is."""

    def __init__(self, transcript_logger: TranscriptLogger) -> None:
        if transcript_logger is None:
            raise TypeError("TranscriptLoggerMiddleware needs a transcript logger or store")
        self.transcript_logger = transcript_logger

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        inbound = context.activity
        proactive = (
            inbound.type == ActivityTypes.EVENT
            and inbound.name == ActivityEventNames.CONTINUE_CONVERSATION
        )
        batch = [] if proactive else [_stamped(inbound, role="user")]

        async def on_send(
            ctx: TurnContext,
            activities: list[Activity],
            following: Callable[[], Awaitable[list[ResourceResponse]]],
        ) -> list[ResourceResponse]:
            responses = await following()
            for activity, response in zip(activities, responses, strict=False):
                logged = _stamped(activity, role="bot")
                logged.id = response.id or logged.id
                batch.append(logged)
            return responses

        async def on_update(
            ctx: TurnContext,
            activity: Activity,
            following: Callable[[], Awaitable[ResourceResponse | None]],
        ) -> ResourceResponse | None:
            response = await following()
            updated = _stamped(activity, role="bot")
            updated.type = ActivityTypes.MESSAGE_UPDATE
            batch.append(updated)
            return response

        async def on_delete(
            ctx: TurnContext,
            reference: ConversationReference,
            following: Callable[[], Awaitable[None]],
        ) -> None:
            await following()
            tombstone = TurnContext.apply_conversation_reference(
                Activity(type=ActivityTypes.MESSAGE_DELETE, id=reference.activity_id), reference
            )
            batch.append(_stamped(tombstone, role="bot"))

        context.on_send_activities(on_send).on_update_activity(on_update).on_delete_activity(
            on_delete
        )
        try:
            await logic()
        finally:
            await self._log(context, batch)

    async def _log(self, context: TurnContext, batch: list[Activity]) -> None:
        commit = context.turn_commit
        if commit is not None and commit.fenced:
            return  # the turn's entry belongs to another worker: it logs the turn
        store = self.transcript_logger
        try:
            if commit is None:
                await _log_all(store, batch)
            elif isinstance(store, RedisTranscriptStore):
                await store.log_activities_for_turn(batch, commit)
            else:  # a store outside Redis: checked, not fenced
                await commit.ensure_owned("transcript")
                await _log_all(store, batch)
        except Exception as e:  # a fenced write marks the commit: the worker drops the turn
            log.warning("transcript not logged for %s: %s", _address(context.activity), e)


async def _log_all(logger: TranscriptLogger, batch: list[Activity]) -> None:
    if not batch:
        return
    log_activities = getattr(logger, "log_activities", None)
    if log_activities is not None:
        await log_activities(batch)
        return
    for activity in batch:  # a logger written for botbuilder: one at a time
        await logger.log_activity(activity)


def _page(items: list[Any], continuation_token: str | None) -> PagedResult:
    start = _position(continuation_token)
    more = len(items) > start + PAGE_SIZE
    return PagedResult(items[start : start + PAGE_SIZE], str(start + PAGE_SIZE) if more else None)


def _created(activities: list[Activity]) -> datetime.datetime | None:
    return activities[0].timestamp if activities else None


def _at_or_after(activity: Activity, start: datetime.datetime) -> bool:
    stamp = activity.timestamp
    if stamp is None:
        return False
    if (stamp.tzinfo is None) != (start.tzinfo is None):  # naive and aware: compare as UTC
        stamp, start = (
            stamp.replace(tzinfo=stamp.tzinfo or datetime.UTC),
            start.replace(tzinfo=start.tzinfo or datetime.UTC),
        )
    return stamp >= start


def _stamped(activity: Activity, *, role: str) -> Activity:
    logged = Activity.from_dict(activity.to_dict())
    if logged.timestamp is None:
        logged.timestamp = datetime.datetime.now(datetime.UTC)
    if logged.from_property is not None and logged.from_property.role is None:
        logged.from_property.role = role
    return logged


def _address(activity: Activity) -> tuple[str, str]:
    conversation = activity.conversation.id if activity.conversation else None
    return activity.channel_id or "", conversation or ""


def _position(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise ValueError(f"invalid continuation token {token!r}")
    return int(token)
