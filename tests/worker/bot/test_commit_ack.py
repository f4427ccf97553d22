"""A turn that saves state acknowledges its stream entry in the same atomic script."""

from __future__ import annotations

from typing import Any

import pytest

from shared.activity import Activity
from shared.envelope import Envelope
from shared.keys import CONSUMER_GROUP, Keyspace
from shared.redisconn import OutageLog, Redis
from shared.resp_pools import RespExecutor
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, pending_count
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import UserState
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import ETAG, EtagConflict
from worker.bot.turn_context import TurnContext
from worker.bot.types import PENDING_ACK_KEY, PendingAck
from worker.errors import TakenOver
from worker.runtime.consumer import Consumer
from worker.runtime.delivery.acks import Acknowledger


async def delivered_entry(redis: Redis, keys: Keyspace) -> PendingAck:
    """Queue one activity and read it through the group, as a worker would."""
    await enqueue(redis, keys, message("hi"))
    stream = keys.stream(keys.shard_of("test/conv-1"))
    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
    response: Any = await redis.xreadgroup(CONSUMER_GROUP, "w1", {stream: ">"}, count=1)
    entry_id = response[0][1][0][0].decode()
    shard = keys.shard_of("test/conv-1")
    done_key = keys.done(shard, "test/conv-1")
    return PendingAck(stream, CONSUMER_GROUP, entry_id, done_key, "w1", keys.sent(shard, entry_id))


async def test_a_state_write_acknowledges_the_entry_atomically(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    ack = await delivered_entry(redis, keys)
    etag = (await storage.write({"k": {"n": 1}}))["k"]

    with pytest.raises(EtagConflict):  # a conflict writes nothing and acknowledges nothing
        await storage.write_and_ack({"k": {"n": 2, ETAG: "stale"}}, ack)
    assert not ack.done and await pending_count(redis, keys) == 1

    await storage.write_and_ack({"k": {"n": 2, ETAG: etag}}, ack)
    assert ack.done and await pending_count(redis, keys) == 0
    assert await redis.get(ack.done_key) == ack.entry_id.encode()  # the commit pointer moved
    assert (await storage.read(["k"]))["k"]["n"] == 2


async def test_only_the_end_of_turn_save_commits_the_turn(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = UserState(storage)
    ack = await delivered_entry(redis, keys)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    context.turn_state[PENDING_ACK_KEY] = ack
    counter = state.create_property("n")

    await counter.set(context, 1)
    await state.save_changes(context)  # in the middle of a turn: must not acknowledge
    assert not ack.done and await pending_count(redis, keys) == 1

    async def logic() -> None:
        await counter.set(context, 2)

    await AutoSaveStateMiddleware(state).on_turn(context, logic)
    assert ack.done and await pending_count(redis, keys) == 0


async def test_the_consumer_skips_its_own_ack_when_the_turn_committed_it(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    await enqueue(redis, keys, message("hi"))

    async def claims_it_acked(envelope: Envelope, pending: PendingAck) -> None:
        pending.done = True  # pretend the state script acknowledged it (it did not)

    consumer = Consumer(redis, keys, claims_it_acked, scripts=scripts, concurrency=2)
    await consumer.run(burst=True)
    assert consumer.turns_done == 1
    assert await pending_count(redis, keys) == 1  # so the consumer sent no XACK of its own


async def test_a_commit_by_a_worker_that_lost_the_entry_is_fenced(
    settings: Settings, redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A frozen worker wakes up after another took its entry over: it commits nothing."""
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    ack = await delivered_entry(redis, keys)
    await redis.xclaim(ack.stream, CONSUMER_GROUP, "w2", 0, [ack.entry_id])  # w2 took it over

    with pytest.raises(TakenOver):
        await storage.write_and_ack({"k": {"n": 1}}, ack)
    assert not ack.done and await storage.read(["k"]) == {}
    assert await redis.get(ack.done_key) is None and await pending_count(redis, keys) == 1

    acks = Acknowledger(scripts, CONSUMER_GROUP, "w1", OutageLog("test"))
    await acks.ack(
        ack.stream, ack.entry_id, ack.done_key, ack.sent_key
    )  # the no-state commit: fenced too
    assert await redis.get(ack.done_key) is None and await pending_count(redis, keys) == 1

    owner = Acknowledger(scripts, CONSUMER_GROUP, "w2", OutageLog("test"))
    await owner.ack(
        ack.stream, ack.entry_id, ack.done_key, ack.sent_key
    )  # the rightful owner commits
    assert await redis.get(ack.done_key) == ack.entry_id.encode()
    assert await pending_count(redis, keys) == 0
