"""Transcript logging against the real server, and in memory."""

from __future__ import annotations

import datetime

import pytest

from shared.redis.connection import Redis
from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.transcript import (
    PAGE_SIZE,
    MemoryTranscriptStore,
    RedisTranscriptStore,
    TranscriptLogger,
    TranscriptLoggerMiddleware,
)
from worker.bot.turn_context import TurnContext


class BrokenStore(RedisTranscriptStore):
    async def log_activities(self, activities: list[Activity]) -> None:
        raise ConnectionError("store down")


async def test_a_turn_is_logged_in_and_out_in_order(settings: Settings, redis: Redis) -> None:
    store = RedisTranscriptStore(redis, key_prefix=settings.key_prefix)
    middleware = TranscriptLoggerMiddleware(store)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi", activity_id="in-1")))

    async def bot() -> None:
        await context.send_activity("hello")
        await context.update_activity(Activity(type="message", id="r1", text="hello!"))
        await context.delete_activity("r1")

    await middleware.on_turn(context, bot)

    page = await store.get_transcript_activities("test", "conv-1")
    assert [(a.type, a.id, a.text) for a in page.items] == [
        ("message", "in-1", "hi"),
        ("message", "r1", "hello"),
        ("messageUpdate", "r1", "hello!"),
        ("messageDelete", "r1", None),
    ]
    assert [a.from_property.role if a.from_property else None for a in page.items[:2]] == [
        "user",
        "bot",
    ]
    assert all(a.timestamp for a in page.items)
    assert page.continuation_token is None
    listed = await store.list_transcripts("test")
    assert [t.id for t in listed.items] == ["conv-1"]


async def test_paging_and_delete(settings: Settings, redis: Redis) -> None:
    store = RedisTranscriptStore(redis, key_prefix=settings.key_prefix)
    await store.log_activities(
        [Activity.from_dict(message(str(n), activity_id=str(n))) for n in range(PAGE_SIZE + 5)]
    )
    first = await store.get_transcript_activities("test", "conv-1")
    assert len(first.items) == PAGE_SIZE and first.continuation_token == str(PAGE_SIZE)
    rest = await store.get_transcript_activities("test", "conv-1", first.continuation_token)
    assert [a.text for a in rest.items] == [str(n) for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert rest.continuation_token is None

    await store.delete_transcript("test", "conv-1")
    assert (await store.get_transcript_activities("test", "conv-1")).items == []
    assert (await store.list_transcripts("test")).items == []


async def test_a_failing_store_never_fails_the_turn() -> None:
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    ran: list[str] = []

    async def bot() -> None:
        ran.append("bot")

    await TranscriptLoggerMiddleware(BrokenStore()).on_turn(context, bot)
    assert ran == ["bot"]


async def test_memory_store_keeps_pages_of_copies_and_lists_and_deletes() -> None:
    store = MemoryTranscriptStore()
    logged = [Activity.from_dict(message(str(n), activity_id=str(n))) for n in range(PAGE_SIZE + 2)]
    for activity in logged[:3]:
        await store.log_activity(activity)
    await store.log_activities(logged[3:])
    logged[0].text = "changed after logging"
    first = await store.get_transcript_activities("test", "conv-1")
    assert [a.text for a in first.items[:2]] == ["0", "1"]
    assert first.continuation_token == str(PAGE_SIZE)
    rest = await store.get_transcript_activities("test", "conv-1", first.continuation_token)
    assert [a.text for a in rest.items] == [str(PAGE_SIZE), str(PAGE_SIZE + 1)]
    assert (await store.get_transcript_activities("test", "nobody")).items == []
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    assert (await store.get_transcript_activities("test", "conv-1", None, later)).items == []
    listed = await store.list_transcripts("test")
    assert [info.id for info in listed.items] == ["conv-1"]
    await store.delete_transcript("test", "conv-1")
    assert (await store.list_transcripts("test")).items == []
    with pytest.raises(TypeError):
        await store.log_activity(None)  # type: ignore[arg-type]


class OneAtATimeLogger(TranscriptLogger):
    """A logger written for botbuilder: only `log_activity`."""

    def __init__(self) -> None:
        self.logged: list[Activity] = []

    async def log_activity(self, activity: Activity) -> None:
        self.logged.append(activity)


async def test_a_logger_with_log_activity_only_gets_each_activity_and_no_proactive_event() -> None:
    logger = OneAtATimeLogger()
    middleware = TranscriptLoggerMiddleware(logger)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi", activity_id="in-1")))

    async def bot() -> None:
        await context.send_activity("hello")

    await middleware.on_turn(context, bot)
    assert [a.text for a in logger.logged] == ["hi", "hello"]

    continuation = Activity.from_dict(message("", activity_id="c-1"))
    continuation.type, continuation.name, continuation.text = "event", "ContinueConversation", None
    proactive = TurnContext(RecordingSender(), continuation)

    async def remind() -> None:
        await proactive.send_activity("reminder")

    await middleware.on_turn(proactive, remind)
    assert [a.text for a in logger.logged][2:] == ["reminder"]
