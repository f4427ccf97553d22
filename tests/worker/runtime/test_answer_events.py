"""A `stream` request's events as the worker appends them, on a real server: in order, with a
wake-up for the gateway, and fenced by the turn's entry like any write of the turn."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from shared.protocol.answer_events import read_entry
from shared.protocol.answers import Answer, read_publication
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from tests.worker.runtime.delivery.commits import commit_for, deliver
from worker.bot.errors import TakenOver
from worker.runtime.answer_events import TurnEvents

CONVERSATION = "test/conv-1"


async def _events(redis: Redis, key: str) -> list[tuple[bytes, bytes]]:
    entries: Any = await redis.xrange(key)
    return [read_entry(fields) for _id, fields in entries]


async def test_events_are_appended_in_order_and_wake_the_gateway(
    redis: Redis, scripts: RespExecutor, keys: Keyspace
) -> None:
    entry = await deliver(redis, keys, CONVERSATION)
    shard = keys.shard_of(CONVERSATION)
    key = keys.answer_events(shard, CONVERSATION, "r-1")
    events = TurnEvents(redis, keys.answers_channel(), key, commit_for(entry, redis, scripts))
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(keys.answers_channel())

        sent = await events.append({"type": "message", "text": "one"})
        await events.append({"type": "typing", "id": "mine"})
        await events.end(Answer(200, b'{"x":1}'))

        wake_ups: list[tuple[str, Answer | None]] = []
        async with asyncio.timeout(10):
            while len(wake_ups) < 3:
                message = await pubsub.get_message(timeout=1)
                if message is not None and message["type"] == "message":
                    wake_ups.append(read_publication(message["data"]))
    assert wake_ups == [(key, None)] * 3
    assert await _events(redis, key) == [
        (b"activity", b'{"type":"message","text":"one","id":"%s"}' % str(sent.id).encode()),
        (b"activity", b'{"type":"typing","id":"mine"}'),
        (b"invokeResponse", b'{"status":200,"body":{"x":1}}'),
        (b"end", b"{}"),
    ]
    assert 0 < await redis.ttl(key) <= 600


async def test_a_worker_that_lost_the_entry_appends_nothing(
    redis: Redis, scripts: RespExecutor, keys: Keyspace
) -> None:
    entry = await deliver(redis, keys, CONVERSATION)
    key = keys.answer_events(keys.shard_of(CONVERSATION), CONVERSATION, "r-2")
    events = TurnEvents(redis, keys.answers_channel(), key, commit_for(entry, redis, scripts))
    await events.append({"type": "message", "text": "before"})
    # Another worker claims the entry, as after this one froze past the claim timeout.
    await redis.xclaim(entry.stream, CONSUMER_GROUP, "w2", 0, [entry.entry_id])

    with pytest.raises(TakenOver):
        await events.append({"type": "message", "text": "after"})
    with pytest.raises(TakenOver):
        await events.end(None)

    stored = await _events(redis, key)
    assert [(kind, orjson.loads(data)["text"]) for kind, data in stored] == [
        (b"activity", "before")
    ]


def _update(stream_type: str, text: str) -> dict[str, Any]:
    info = {"type": "streaminfo", "streamType": stream_type, "streamId": "s1"}
    return {"type": "typing" if stream_type != "final" else "message", "text": text} | {
        "entities": [info]
    }


async def test_a_chunk_supersedes_the_one_before_and_the_final_message_the_last(
    redis: Redis, keys: Keyspace
) -> None:
    key = keys.answer_events(0, CONVERSATION, "r-3")
    events = TurnEvents(redis, keys.answers_channel(), key, None)

    await events.append(_update("informative", "Thinking"))
    await events.append(_update("streaming", "a"))
    await events.append(_update("streaming", "a b"))
    after_chunks = [orjson.loads(data)["text"] for _kind, data in await _events(redis, key)]
    await events.append({"type": "message", "text": "aside"})
    await events.append(_update("final", "a b c"))

    assert after_chunks == ["Thinking", "a b"]
    assert [orjson.loads(data)["text"] for _kind, data in await _events(redis, key)] == [
        "Thinking",
        "aside",
        "a b c",
    ]
