"""Every write and send a turn makes is refused once its entry belongs to another worker (the
old holder froze past the claim timeout): one test per fenced operation, on a real server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.protocol.schedule import Schedule
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor, open_pipelined_pool
from shared.schema.activity import Activity, ResourceResponse
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import pending_count
from tests.worker.runtime.delivery.commits import Delivered, commit_for, deliver
from turnstream.devconnector import DevConnector
from turnstream.embedded import free_port
from worker.bot.activity_handler import ActivityHandler
from worker.bot.adapter import ConnectorAdapter
from worker.bot.bot_adapter import BotAdapter
from worker.bot.errors import TakenOver
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import ConversationState, UserState, save_deferred
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import MemoryStorage
from worker.bot.transcript import RedisTranscriptStore, TranscriptLoggerMiddleware
from worker.bot.turn_commit import FencedWrite
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.runtime.delivery.entry_commit import EntryCommit
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.send_journal import SendJournal

CONVERSATION = "test/conv-1"
STATE_KEY = "test/conversations/conv-1"
USER_KEY = "test/users/user-1"
OTHER_REFERENCE = {
    "serviceUrl": "http://127.0.0.1:9/",
    "channelId": "test",
    "conversation": {"id": "conv-2"},
}
"""Another conversation, which bot code queues a turn in while its own turn runs."""


@pytest.fixture
async def adapter(connector: tuple[DevConnector, str]) -> AsyncIterator[ConnectorAdapter]:
    client = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield ConnectorAdapter(client)
    await client.aclose()


async def taken_over(redis: Redis, entry: Delivered) -> None:
    """Another worker claims the entry, as after this one froze past the claim timeout."""
    await redis.xclaim(entry.stream, CONSUMER_GROUP, "w2", 0, [entry.entry_id])


def context_for(commit: EntryCommit, service_url: str = "http://127.0.0.1:9/") -> TurnContext:
    context = TurnContext(_NoSends(), Activity.from_dict(message("hi", service_url=service_url)))
    context.turn_commit = commit
    return context


class _NoSends(BotAdapter):
    async def send_activities(self, context: TurnContext, activities: list[Activity]) -> Any:
        raise AssertionError("nothing is sent in these tests")

    async def update_activity(self, context: TurnContext, activity: Activity) -> Any:
        raise AssertionError

    async def delete_activity(self, context: TurnContext, reference: Any) -> None:
        raise AssertionError

    async def continue_conversation(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError

    async def create_conversation(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError


async def test_an_explicit_save_changes_is_written_with_the_turns_commit(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A save in a worker's turn is held until the turn ends, then written with the turn's
    commit in one fenced script: a turn cut short leaves no state of its own behind."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = ConversationState(storage)
    entry = await deliver(redis, keys, CONVERSATION)
    commit = commit_for(entry, redis, scripts)
    context = context_for(commit)
    await state.create_property("n").set(context, 1)
    await state.save_changes(context)
    assert await storage.read([STATE_KEY]) == {}  # not yet: the turn may still be cut short
    assert await state.create_property("n").get(context) == 1  # the turn sees what it set
    await save_deferred(context)
    assert (await storage.read([STATE_KEY]))[STATE_KEY]["n"] == 1
    assert commit.committed  # one storage: the write acknowledged the entry too
    assert await pending_count(redis, keys) == 0


async def test_an_explicit_save_changes_is_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = ConversationState(storage)
    entry = await deliver(redis, keys, CONVERSATION)
    refused: list[str] = []
    commit = commit_for(entry, redis, scripts, fenced=refused)
    context = context_for(commit)
    await state.create_property("n").set(context, 1)
    await state.save_changes(context)
    await taken_over(redis, entry)
    await state.create_property("n").set(context, 2)
    await state.save_changes(context, force=True)
    with pytest.raises(TakenOver):
        await save_deferred(context)
    assert await storage.read([STATE_KEY]) == {}
    assert commit.fenced and refused == ["commit"]  # the held save goes with the commit
    await state.save_changes(context, force=True)
    with pytest.raises(TakenOver):  # once fenced, refused without asking Redis
        await save_deferred(context)
    assert refused == ["commit"]  # counted once per delivery


async def test_clear_state_then_save_is_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    await storage.write({STATE_KEY: {"n": 1}})
    entry = await deliver(redis, keys, CONVERSATION)
    context = context_for(commit_for(entry, redis, scripts))
    state = ConversationState(storage)
    await state.clear_state(context)
    await state.save_changes(context)
    await taken_over(redis, entry)
    with pytest.raises(TakenOver):
        await save_deferred(context)
    assert (await storage.read([STATE_KEY]))[STATE_KEY]["n"] == 1


async def test_the_autosave_commit_is_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = UserState(storage)
    entry = await deliver(redis, keys, CONVERSATION)
    refused: list[str] = []
    commit = commit_for(entry, redis, scripts, fenced=refused)
    context = context_for(commit)

    async def logic() -> None:
        await state.create_property("n").set(context, 1)
        await taken_over(redis, entry)

    with pytest.raises(TakenOver):
        await AutoSaveStateMiddleware(state).on_turn(context, logic)
    assert await storage.read([USER_KEY]) == {} and not commit.committed
    assert await redis.get(entry.done_key) is None and await pending_count(redis, keys) == 1
    assert refused == ["commit"]


async def test_a_storage_outside_redis_is_checked_before_its_write(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """MemoryStorage cannot run inside the fence's script: the lease is checked instead, here
    lapsed (the worker missed its renewals), so the check asks Redis and finds it lost."""
    storage = MemoryStorage()
    entry = await deliver(redis, keys, CONVERSATION)
    leases = Leases(scripts, CONSUMER_GROUP, entry.consumer, claim_idle_seconds=1.0)
    commit = commit_for(entry, redis, scripts, leases=leases)
    leases.hold((entry.stream, entry.entry_id), time.monotonic() - 2)  # frozen 2 s
    await taken_over(redis, entry)
    context = context_for(commit)
    state = ConversationState(storage)
    await state.create_property("n").set(context, 1)
    await state.save_changes(context)
    with pytest.raises(TakenOver):
        await save_deferred(context)
    assert await storage.read([STATE_KEY]) == {}


async def test_transcript_writes_are_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    store = RedisTranscriptStore(redis, key_prefix=settings.key_prefix)
    entry = await deliver(redis, keys, CONVERSATION)
    commit = commit_for(entry, redis, scripts)
    context = context_for(commit)

    async def logic() -> None:
        await taken_over(redis, entry)

    await TranscriptLoggerMiddleware(store).on_turn(context, logic)
    assert (await store.get_transcript_activities("test", "conv-1")).items == []
    assert commit.fenced  # the worker drops the turn

    owner = commit_for(await deliver(redis, keys, CONVERSATION), redis, scripts)
    await TranscriptLoggerMiddleware(store).on_turn(context_for(owner), _nothing)
    assert [a.text for a in (await store.get_transcript_activities("test", "conv-1")).items] == [
        "hi"
    ]


async def _nothing() -> None:
    pass


async def test_a_proactive_turn_queued_by_bot_code_is_fenced(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    scripts: RespExecutor,
    adapter: ConnectorAdapter,
) -> None:
    adapter.proactive = ProactiveQueue(redis, keys)
    entry = await deliver(redis, keys, CONVERSATION)
    commit = commit_for(entry, redis, scripts)
    reference = OTHER_REFERENCE
    queued: list[str] = []

    class Reminding(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            queued.append(await turn_context.adapter.continue_conversation(reference, remind))
            await taken_over(redis, entry)
            await turn_context.adapter.continue_conversation(reference, remind)

    stream = keys.stream(keys.shard_of("test/conv-2"))
    with pytest.raises(TakenOver):
        await adapter.process_activity(message("hi"), Reminding(), commit)
    assert len(queued) == 1 and await redis.xlen(stream) == 1  # the first, queued while ours


async def test_scheduling_and_cancelling_from_bot_code_are_fenced(
    redis: Redis,
    keys: Keyspace,
    scripts: RespExecutor,
    adapter: ConnectorAdapter,
) -> None:
    adapter.schedule = Schedule(redis, keys)
    entry = await deliver(redis, keys, CONVERSATION)
    commit = commit_for(entry, redis, scripts)
    reference = OTHER_REFERENCE

    class Planning(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            adapter = turn_context.adapter
            await adapter.schedule_turn(reference, "first", after=60, key="kept")
            await taken_over(redis, entry)
            try:
                await adapter.cancel_scheduled_turn(reference=reference, key="kept")
            finally:
                await adapter.schedule_turn(reference, "second", after=60)

    with pytest.raises(TakenOver):
        await adapter.process_activity(message("hi"), Planning(), commit)
    waiting = await adapter.schedule.waiting()
    assert [t.activity["name"] for t in waiting] == ["first"]  # scheduled while ours, kept


async def remind(turn_context: TurnContext) -> None:
    pass


async def test_a_reply_is_not_sent_once_the_lease_lapsed_and_on_turn_error_is_not_called(
    redis: Redis,
    keys: Keyspace,
    scripts: RespExecutor,
    adapter: ConnectorAdapter,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    entry = await deliver(redis, keys, CONVERSATION)
    leases = Leases(scripts, CONSUMER_GROUP, entry.consumer, claim_idle_seconds=1.0)
    refused: list[str] = []
    commit = commit_for(entry, redis, scripts, leases=leases, fenced=refused)
    errors: list[Exception] = []

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        errors.append(error)

    adapter.on_turn_error = on_turn_error

    class Stalls(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity("before")
            # Frozen past the claim timeout here; another worker took the entry over.
            leases.hold((entry.stream, entry.entry_id), time.monotonic() - 2)
            await taken_over(redis, entry)
            try:
                await turn_context.send_activity("after")
            except TakenOver as e:  # a bot that swallows errors still stops here
                raise RuntimeError("the bot's own wrapper") from e

    with pytest.raises(TakenOver):
        await adapter.process_activity(message("hi", service_url=service_url), Stalls(), commit)
    assert [a["text"] for a in dev.activities()] == ["before"]
    assert errors == [] and refused == ["send"]


async def test_a_lease_still_held_is_renewed_not_refused(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A worker that missed its renewals but was not taken over keeps its entry."""
    entry = await deliver(redis, keys, CONVERSATION)
    leases = Leases(scripts, CONSUMER_GROUP, entry.consumer, claim_idle_seconds=1.0)
    key = (entry.stream, entry.entry_id)
    leases.hold(key, time.monotonic() - 2)
    before = time.monotonic()
    await leases.ensure(key)
    await leases.ensure(key)  # renewed by the first: answered from memory
    rows: Any = await redis.xpending_range(
        entry.stream, CONSUMER_GROUP, min=entry.entry_id, max=entry.entry_id, count=1
    )
    assert rows[0]["consumer"] == b"w1" and rows[0]["time_since_delivered"] < 1000
    assert time.monotonic() - before < 1


async def test_a_sent_reply_record_is_fenced(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    entry = await deliver(redis, keys, CONVERSATION)
    await taken_over(redis, entry)
    journal = SendJournal(redis, scripts, CONSUMER_GROUP, "w1", OutageLog("test"))
    journal.record(
        entry.stream,
        entry.sent_key,
        entry.entry_id,
        [ResourceResponse(id="r1")],
        starts_key=entry.starts_key,
        try_count=0,
    )
    await journal.flush()
    assert not await redis.exists(entry.sent_key)  # the new owner's record is its own


async def test_a_failed_turn_keeps_its_saves_unless_they_conflict(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    scripts: RespExecutor,
    adapter: ConnectorAdapter,
) -> None:
    """What a bot saved before it raised is written after on_turn_error, as botbuilder keeps
    it; if the state changed meanwhile, the failed turn's saves give way (no re-run)."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    user = UserState(storage)
    failures: list[str] = []

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        failures.append(str(error))

    adapter.on_turn_error = on_error

    class SavesThenFails(ActivityHandler):
        def __init__(self, n: int, meanwhile: dict[str, Any] | None) -> None:
            self.n = n
            self.meanwhile = meanwhile

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await user.create_property("n").set(turn_context, self.n)
            await user.save_changes(turn_context)
            if self.meanwhile is not None:  # another turn of this user writes first
                await storage.write(self.meanwhile)
            raise ValueError("bot bug")

    commit = commit_for(await deliver(redis, keys, CONVERSATION), redis, scripts)
    await adapter.process_activity(message("hi"), SavesThenFails(1, None), commit)
    assert (await storage.read([USER_KEY]))[USER_KEY]["n"] == 1 and failures == ["bot bug"]

    commit = commit_for(await deliver(redis, keys, CONVERSATION), redis, scripts)
    other = {USER_KEY: {"n": 7}}
    await adapter.process_activity(message("hi"), SavesThenFails(2, other), commit)
    assert (await storage.read([USER_KEY]))[USER_KEY]["n"] == 7  # gave way, no exception
    assert failures == ["bot bug", "bot bug"]


async def test_a_fenced_write_fails_as_the_stores_own_client_would(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """Fenced writes go out on the worker's plain RESP connections, yet a store sees redis-py's
    errors as from its own client: a script's error reply is a ResponseError (not taken for the
    fence's refusal), an unreachable server a ConnectionError; nothing is committed."""
    entry = await deliver(redis, keys, CONVERSATION)
    commit = commit_for(entry, redis, scripts)
    failing = FencedWrite("return redis.error_reply('ERR the store refused')", [], [])
    with pytest.raises(ResponseError, match="the store refused"):
        await commit.write(redis, [failing], commit=True)
    assert not commit.fenced and not commit.committed
    closed = open_pipelined_pool(
        dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}"),
        timeout_seconds=5,
    )
    try:
        unreachable = commit_for(entry, redis, closed)
        with pytest.raises(RedisConnectionError):
            await unreachable.write(redis, [FencedWrite("return 0", [], [])], commit=True)
        assert not unreachable.committed
    finally:
        await closed.aclose()
    assert await pending_count(redis, keys) == 1  # the entry still waits for its commit
