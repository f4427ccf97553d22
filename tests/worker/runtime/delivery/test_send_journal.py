"""The record of replies sent per stream entry, against a real server."""

from __future__ import annotations

from typing import Any

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import ResourceResponse
from tests.support.activities import message
from tests.support.streams import enqueue
from worker.runtime.delivery.acks import Acknowledger
from worker.runtime.delivery.send_journal import SendJournal, pack, unpack


async def _delivered(redis: Redis, keys: Keyspace, consumer: str) -> tuple[str, str, str, str]:
    """Queue one activity, read it as `consumer`: stream, entry id, done pointer, record key."""
    entry_id = await enqueue(redis, keys, message("hi"))
    shard = keys.shard_of("test/conv-1")
    stream = keys.stream(shard)
    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
    await redis.xreadgroup(CONSUMER_GROUP, consumer, {stream: ">"}, count=1)
    return stream, entry_id, keys.done(shard, "test/conv-1"), keys.sent(shard, entry_id)


def _first_try(keys: Keyspace, entry_id: str) -> dict[str, Any]:
    """The record's arguments for the first try of an entry read here (its count: none)."""
    return {"starts_key": keys.starts(keys.shard_of("test/conv-1"), entry_id), "try_count": 0}


def test_ids_survive_the_round_trip_including_missing_ones() -> None:
    replies = [ResourceResponse(id="a1"), ResourceResponse(), ResourceResponse(id="a3")]
    assert [r.id for r in unpack(pack(replies))] == ["a1", None, "a3"]
    assert unpack(None) == []


async def test_records_what_was_sent_and_the_commit_removes_it(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    stream, entry_id, done_key, sent_key = await _delivered(redis, keys, "w1")
    journal = SendJournal(redis, scripts, CONSUMER_GROUP, "w1", OutageLog("test"))

    first = _first_try(keys, entry_id)
    journal.record(stream, sent_key, entry_id, [ResourceResponse(id="r1")], **first)
    journal.record(
        stream, sent_key, entry_id, [ResourceResponse(id="r1"), ResourceResponse(id="r2")], **first
    )
    await journal.flush()

    assert [r.id for r in await journal.load(sent_key)] == ["r1", "r2"]  # the latest list wins
    assert 0 < await redis.ttl(sent_key)  # a crash's leftovers expire

    await Acknowledger(scripts, CONSUMER_GROUP, "w1", OutageLog("test")).ack(
        stream, entry_id, done_key, sent_key
    )
    assert await journal.load(sent_key) == []


async def test_a_worker_that_lost_the_entry_cannot_overwrite_its_record(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    stream, entry_id, _, sent_key = await _delivered(redis, keys, "w1")
    await redis.xclaim(stream, CONSUMER_GROUP, "w2", 0, [entry_id])  # taken over by w2
    new_owner = SendJournal(redis, scripts, CONSUMER_GROUP, "w2", OutageLog("test"))
    new_owner.record(
        stream, sent_key, entry_id, [ResourceResponse(id="fresh")], **_first_try(keys, entry_id)
    )
    await new_owner.flush()

    stale = SendJournal(redis, scripts, CONSUMER_GROUP, "w1", OutageLog("test"))
    stale.record(
        stream, sent_key, entry_id, [ResourceResponse(id="stale")], **_first_try(keys, entry_id)
    )
    await stale.flush()

    recorded: Any = await redis.get(sent_key)
    assert [r.id for r in unpack(recorded)] == ["fresh"]
    assert stale.unrecorded == 0  # refused, not failed: nothing to retry


async def test_an_earlier_try_cannot_overwrite_the_record_of_the_try_after_it(
    redis: Redis, keys: Keyspace, scripts: RespExecutor
) -> None:
    """A record of the first try that reaches Redis late (it stalled) after the retry in place
    recorded its longer list: the retry's stands."""
    stream, entry_id, _, sent_key = await _delivered(redis, keys, "w1")
    first = _first_try(keys, entry_id)
    await redis.incr(first["starts_key"])  # the retry counted itself (attempts.BEGIN_SCRIPT)
    journal = SendJournal(redis, scripts, CONSUMER_GROUP, "w1", OutageLog("test"))
    retry = {**first, "try_count": 1}
    journal.record(
        stream, sent_key, entry_id, [ResourceResponse(id="r1"), ResourceResponse(id="r2")], **retry
    )
    await journal.flush()

    journal.record(stream, sent_key, entry_id, [ResourceResponse(id="r1")], **first)
    await journal.flush()

    recorded: Any = await redis.get(sent_key)
    assert [r.id for r in unpack(recorded)] == ["r1", "r2"]
