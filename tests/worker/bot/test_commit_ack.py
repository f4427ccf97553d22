"""A turn that saves state at its end commits its stream entry in the same atomic script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp import Command
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from tests.worker.bot.test_turn_context import RecordingSender
from tests.worker.runtime.delivery.commits import Delivered, commit_for, deliver
from worker.bot.errors import TakenOver
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import BotStateSet, UserState
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import ETAG, EtagConflict
from worker.bot.turn_context import TurnContext
from worker.runtime.consumer import Consumer
from worker.runtime.delivery.acks import Acknowledger
from worker.runtime.delivery.entry_commit import EntryCommit


async def delivered_entry(redis: Redis, keys: Keyspace) -> Delivered:
    """Queue one activity and read it through the group, as a worker would."""
    return await deliver(redis, keys, "test/conv-1")


async def test_a_state_write_acknowledges_the_entry_atomically(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    entry = await delivered_entry(redis, keys)
    commit = commit_for(entry, redis, scripts)
    etag = (await storage.write({"k": {"n": 1}}))["k"]

    with pytest.raises(EtagConflict):  # a conflict writes nothing and acknowledges nothing
        await storage.write_for_turn({"k": {"n": 2, ETAG: "stale"}}, commit, final=True)
    assert not commit.committed and await pending_count(redis, keys) == 1

    await storage.write_for_turn({"k": {"n": 2, ETAG: etag}}, commit, final=True)
    assert commit.committed and await pending_count(redis, keys) == 0
    assert await redis.get(entry.done_key) == entry.entry_id.encode()  # the pointer moved
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_only_the_end_of_turn_save_commits_the_turn(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = UserState(storage)
    entry = await delivered_entry(redis, keys)
    commit = commit_for(entry, redis, scripts)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    context.turn_commit = commit
    counter = state.create_property("n")

    await counter.set(context, 1)
    await state.save_changes(context)  # in the middle of a turn: must not acknowledge
    assert not commit.committed and await pending_count(redis, keys) == 1

    async def logic() -> None:
        await counter.set(context, 2)

    await AutoSaveStateMiddleware(state).on_turn(context, logic)
    assert commit.committed and await pending_count(redis, keys) == 0


async def test_the_consumer_skips_its_own_ack_when_the_turn_committed_it(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    await enqueue(redis, keys, message("hi"))

    async def claims_it_acked(envelope: Envelope, commit: EntryCommit) -> None:
        commit.acknowledged()  # pretend the state script acknowledged it (it did not)

    consumer = Consumer(redis, keys, claims_it_acked, scripts=scripts, concurrency=2)
    await consumer.run(burst=True)
    assert consumer.turns_done == 1
    assert await pending_count(redis, keys) == 1  # so the consumer sent no XACK of its own


async def test_a_commit_by_a_worker_that_lost_the_entry_is_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A frozen worker wakes up after another took its entry over: it commits nothing."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    entry = await delivered_entry(redis, keys)
    commit = commit_for(entry, redis, scripts)
    await redis.xclaim(entry.stream, CONSUMER_GROUP, "w2", 0, [entry.entry_id])  # w2 took it

    with pytest.raises(TakenOver):
        await storage.write_for_turn({"k": {"n": 1}}, commit, final=True)
    assert not commit.committed and commit.fenced and await storage.read(["k"]) == {}
    assert await redis.get(entry.done_key) is None and await pending_count(redis, keys) == 1

    acks = Acknowledger(scripts, CONSUMER_GROUP, "w1", OutageLog("test"))
    keys_of_commit = (entry.stream, entry.entry_id, entry.done_key, entry.sent_key)
    assert not await acks.ack(*keys_of_commit)  # the no-state commit: fenced too
    assert await redis.get(entry.done_key) is None and await pending_count(redis, keys) == 1

    owner = Acknowledger(scripts, CONSUMER_GROUP, "w2", OutageLog("test"))
    assert await owner.ack(*keys_of_commit)  # the rightful owner commits
    assert await redis.get(entry.done_key) == entry.entry_id.encode()
    assert await pending_count(redis, keys) == 0


class CountingPool:
    """The worker's RESP connections, counting the batches sent on them."""

    def __init__(self, pool: RespExecutor) -> None:
        self.pool = pool
        self.batches = 0

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        self.batches += 1
        return await self.pool.execute(commands)

    async def aclose(self) -> None:
        await self.pool.aclose()


async def test_a_turn_reads_its_state_on_the_workers_connections_when_the_store_uses_redis_url(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    scripts: RespExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A storage opened from REDIS_URL (the samples' `RedisStorage()`) reads a turn's state on
    the worker's plain RESP connections; one given its own client keeps reading through it.
    Both read the same items, eTags included."""
    assert settings.redis_url is not None
    monkeypatch.setenv("REDIS_URL", settings.redis_url)
    monkeypatch.setenv("TURNSTREAM_KEY_PREFIX", settings.key_prefix)
    from_url = RedisStorage()
    given = RedisStorage(redis, key_prefix=settings.key_prefix)
    etags = await given.write({"a": {"n": 1}, "b": {"n": 2}})
    counting = CountingPool(scripts)
    commit = commit_for(await delivered_entry(redis, keys), redis, counting)
    try:
        lean = await from_url.read_for_turn(["a", "b", "missing"], commit)
        # One batch, or three where another test flushed the server's scripts (NOSCRIPT, load,
        # again): the tests of a process share its server.
        on_workers_connections = counting.batches
        assert on_workers_connections in (1, 3)
        assert lean == {"a": {"n": 1, ETAG: etags["a"]}, "b": {"n": 2, ETAG: etags["b"]}}
        assert await given.read_for_turn(["a", "b", "missing"], commit) == lean
        assert counting.batches == on_workers_connections  # its own client, not the worker's
    finally:
        await from_url.aclose()


async def test_states_loaded_in_a_turn_never_share_what_they_read(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A turn's read hands its decoded items to the states without a copy; two states on the
    same key still get one each."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    first, second = UserState(storage), UserState(storage)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    context.turn_commit = commit_for(await delivered_entry(redis, keys), redis, scripts)
    await storage.write({first.get_storage_key(context): {"n": 1}})
    await BotStateSet(first, second).load_all(context)
    first.get(context)["n"] = 2
    assert second.get(context)["n"] == 1  # not the same dict


async def test_a_change_after_a_save_is_saved_again(settings: Settings, redis: Redis) -> None:
    """A save's snapshot is what it wrote (the encoding `is_changed` made just before)."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = UserState(storage)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    key = state.get_storage_key(context)
    await state.load(context)
    state.get(context)["n"] = 1
    await state.save_changes(context)
    cached = state.get_cached_state(context)
    assert cached is not None and not cached.is_changed()
    state.get(context)["n"] = 2
    await state.save_changes(context)
    assert (await storage.read([key]))[key]["n"] == 2
    assert not cached.is_changed()
