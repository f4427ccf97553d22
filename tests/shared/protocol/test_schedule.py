"""Scheduled turns' scripts on the real server: schedule, replace by key, cancel, and the move of
due turns into their conversation's stream, exactly once however many callers race for them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace
from shared.protocol.proactive import ProactiveQueue, conversation_of
from shared.protocol.schedule import (
    FIRE_BATCH,
    MAX_DELAY_SECONDS,
    BadSchedule,
    Schedule,
    due_time,
)
from shared.redis.connection import Redis


def _reference(conversation: str = "c-1") -> dict[str, Any]:
    return {
        "channelId": "test",
        "serviceUrl": "http://127.0.0.1:1/",
        "conversation": {"id": conversation},
        "user": {"id": "u-1"},
        "bot": {"id": "b-1"},
    }


async def _entries(redis: Redis, keys: Keyspace, conversation: str) -> list[tuple[str, Envelope]]:
    stream = keys.stream(keys.shard_of(conversation))
    found = []
    raw: Any = await redis.xrange(stream)
    for entry_id, fields in raw:
        envelope = Envelope.decode(fields[ENVELOPE_FIELD.encode()])
        if envelope.conversation == conversation:
            found.append((entry_id.decode(), envelope))
    return found


async def test_a_due_turn_is_queued_in_its_conversation_after_the_turns_before_it(
    redis: Redis, keys: Keyspace
) -> None:
    schedule = Schedule(redis, keys)
    reference = _reference()
    now = time.time()
    scheduled = await schedule.schedule(reference, now + 60, event="remind", value={"n": 1})
    shard = schedule.shard_of_id(scheduled)
    before = await ProactiveQueue(redis, keys).enqueue(reference, event="earlier")

    early = await schedule.fire_due([shard], now)
    assert early.lateness == []
    assert early.next_due == pytest.approx(now + 60, abs=0.002)
    assert (await schedule.get(scheduled)) is not None

    fired = await schedule.fire_due([shard], now + 61)
    assert len(fired.lateness) == 1 and fired.next_due is None
    entries = await _entries(redis, keys, conversation_of(reference))
    assert [e.activity()["name"] for _, e in entries] == ["earlier", "remind"]
    assert entries[1][1].activity()["value"] == {"n": 1}
    assert entries[1][1].proactive is not None and entries[1][1].proactive.callback is None
    stream = keys.stream(shard)
    chained: Any = await redis.xrange(stream, min=entries[1][0], max=entries[1][0])
    fields = chained[0][1]
    assert fields[PREVIOUS_FIELD.encode()].decode() == before  # chained after the earlier turn
    assert await redis.get(keys.last(shard, conversation_of(reference))) == entries[1][0].encode()
    assert await schedule.get(scheduled) is None  # nothing left behind
    assert await redis.exists(keys.due(shard), keys.scheduled(shard)) == 0


async def test_racing_callers_queue_each_due_turn_once_in_schedule_order(
    redis: Redis, keys: Keyspace
) -> None:
    schedule = Schedule(redis, keys)
    reference = _reference("busy")
    due = time.time() - 1
    count = FIRE_BATCH + 50  # more than one batch
    ids = [
        await schedule.schedule(reference, due, callback="tests.bot:remind", value=n)
        for n in range(count)
    ]
    shard = schedule.shard_of_id(ids[0])
    rounds = await asyncio.gather(
        *(Schedule(redis, keys).fire_due([shard], time.time()) for _ in range(8))
    )
    assert sum(len(r.lateness) for r in rounds) == count
    entries = await _entries(redis, keys, conversation_of(reference))
    assert [e.activity()["value"] for _, e in entries] == list(range(count))
    assert {e.proactive.callback for _, e in entries if e.proactive} == {"tests.bot:remind"}


async def test_the_same_key_replaces_and_cancels_by_key_or_id(redis: Redis, keys: Keyspace) -> None:
    schedule = Schedule(redis, keys)
    reference = _reference()
    conversation = conversation_of(reference)
    now = time.time()
    first = await schedule.schedule(reference, now + 30, event="ping", key="daily")
    second = await schedule.schedule(reference, now + 90, event="pong", key="daily")
    other = await schedule.schedule(_reference("c-2"), now + 30, event="ping", key="daily")
    waiting = await schedule.waiting(conversation=conversation)
    assert [(t.id, t.key, t.activity["name"]) for t in waiting] == [(second, "daily", "pong")]
    assert await schedule.get(first) is None
    assert not await schedule.cancel(first)

    assert await schedule.cancel(conversation=conversation, key="daily")
    assert not await schedule.cancel(conversation=conversation, key="daily")
    assert await schedule.waiting(conversation=conversation) == []
    assert [t.id for t in await schedule.waiting()] == [other]  # the other conversation's key
    assert await schedule.cancel(other)
    assert await schedule.waiting() == []
    for shard in range(keys.shards):
        assert await redis.exists(keys.schedule_keys(shard), keys.scheduled(shard)) == 0

    again = await schedule.schedule(reference, now - 1, event="ping", key="daily")
    fired = await schedule.fire_due([schedule.shard_of_id(again)], now)
    assert len(fired.lateness) == 1
    assert not await schedule.cancel(conversation=conversation, key="daily")  # fired: key freed


async def test_counts_and_listing_by_due_time(redis: Redis, keys: Keyspace) -> None:
    schedule = Schedule(redis, keys)
    now = time.time()
    ids = [
        await schedule.schedule(_reference(f"c-{n}"), now + offset, event="e")
        for n, offset in enumerate((30, -5, 10, -1))
    ]
    listed = await schedule.waiting()
    assert [t.id for t in listed] == [ids[1], ids[3], ids[2], ids[0]]
    assert [t.to_dict()["event"] for t in listed] == ["e"] * 4
    counts = await schedule.counts(now)
    assert sum(w for w, _ in counts) == 4 and sum(d for _, d in counts) == 2
    assert len(await schedule.waiting(limit=2)) == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, r: s.schedule(r, time.time(), event="e", key=""), "scheduling key"),
        (lambda s, r: s.schedule(r, time.time(), event="e", key="a\nb"), "no newline"),
        (lambda s, r: s.schedule(r, time.time(), event="e", value={1, 2}), "not JSON"),
        (lambda s, r: s.schedule({**r, "serviceUrl": "ftp://x"}, time.time()), "serviceUrl"),
        (lambda s, r: s.cancel("nonsense"), "not a schedule id"),
        (lambda s, r: s.cancel("99-abc"), "names shard 99"),
        (lambda s, r: s.cancel(conversation="test/c-1"), "by id, or by conversation and key"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    redis: Redis, keys: Keyspace, call: Any, message: str
) -> None:
    schedule = Schedule(redis, keys)
    with pytest.raises(ValueError, match=message):
        await call(schedule, _reference())
    assert await schedule.waiting() == []


def test_due_time_takes_exactly_one_of_at_and_after() -> None:
    assert due_time(100.0, after=5) == 105.0
    assert due_time(100.0, at=50.0) == 50.0  # past: due at once
    with pytest.raises(BadSchedule, match="either"):
        due_time(100.0, at=1.0, after=1.0)
    with pytest.raises(BadSchedule, match="either"):
        due_time(100.0)
    with pytest.raises(BadSchedule, match="ahead"):
        due_time(100.0, after=MAX_DELAY_SECONDS + 1)
    with pytest.raises(BadSchedule, match="finite"):
        due_time(100.0, after=float("nan"))


async def test_a_record_no_longer_valid_and_an_id_without_record_are_dropped_not_queued(
    redis: Redis, keys: Keyspace
) -> None:
    schedule = Schedule(redis, keys)
    now = time.time()
    kept = await schedule.schedule(_reference(), now - 1, event="e", key="k")
    shard = schedule.shard_of_id(kept)
    # As if a newer release refused what an older one accepted: the reference no longer passes.
    raw: Any = await redis.hget(keys.scheduled(shard), kept)
    record = orjson.loads(raw)
    record["r"]["serviceUrl"] = "ftp://old"
    await redis.hset(keys.scheduled(shard), kept, orjson.dumps(record))
    await redis.zadd(keys.due(shard), {f"{shard}-orphan": round(now * 1000) - 5})
    (listed,) = await schedule.waiting()  # still listed, as it is (the orphan has no record)
    assert (listed.id, listed.activity["name"], listed.key) == (kept, "e", "k")

    fired = await schedule.fire_due([shard], now)

    assert fired.lateness == [] and fired.next_due is None
    assert (
        await redis.exists(
            keys.due(shard), keys.scheduled(shard), keys.schedule_keys(shard), keys.stream(shard)
        )
        == 0
    )
