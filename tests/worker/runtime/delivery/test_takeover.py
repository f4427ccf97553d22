"""Taking over what a dead worker held: the predecessors that entries held here wait for come
first, by id, however full the worker is (worker.runtime.delivery.takeover,
worker.runtime.consumer)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from samples.echo import bot as echo
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker

ABANDONED_BEFORE = 30
"""Entries of another conversation a dead worker held, ahead of the chain in the stream: a
takeover that only sweeps the stream (one entry per pass when full) reaches the chain after
them, 30 passes of 0.2 s later."""


async def test_a_full_worker_claims_the_abandoned_predecessors_its_entries_wait_for(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    fast = dataclasses.replace(settings, claim_idle_seconds=1)
    chain, other = _on_one_shard(keys, 2)
    stream = keys.stream(keys.shard_of(f"test/{chain}"))
    ids: list[Any] = [
        await enqueue(redis, keys, _message(f"{other} {n}", other, service_url))
        for n in range(ABANDONED_BEFORE)
    ]
    for n in range(2):
        ids.append(await enqueue(redis, keys, _message(f"{chain} {n}", chain, service_url)))
    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0")
    # A worker read all of these and died a minute ago.
    await redis.xreadgroup(CONSUMER_GROUP, "dead", {stream: ">"})
    await redis.xclaim(stream, CONSUMER_GROUP, "dead", 0, ids, idle=60_000, justid=True)
    # The chain goes on; the live worker reads these two, which fill it (concurrency 1 holds
    # two entries), and both wait for the dead worker's.
    for n in range(2, 4):
        await enqueue(redis, keys, _message(f"{chain} {n}", chain, service_url))

    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(fast, echo, concurrency=1, handle_signals=False, stop=stop)
    )
    try:
        while len(_texts(dev, chain)) < 4:
            await dev.wait_for(len(dev.received) + 1, within=30)
        others_before = len(_texts(dev, other))
    finally:
        stop.set()
        await worker

    assert _texts(dev, chain) == [f"Echo: {chain} {n}" for n in range(4)]
    # Half a claim timeout of waiting, then the next takeover pass: not 30 passes. Counted in
    # the other conversation's entries the sweep reached meanwhile (one per pass), not in
    # seconds, which a busy machine stretches.
    assert others_before < ABANDONED_BEFORE // 2, others_before


def _message(text: str, conversation: str, service_url: str) -> dict[str, Any]:
    return message(text, activity_id=text, conversation=conversation, service_url=service_url)


def _texts(dev: DevConnector, conversation: str) -> list[str]:
    return [a["text"] for a in dev.activities() if a["conversation"]["id"] == conversation]


def _on_one_shard(keys: Keyspace, count: int) -> list[str]:
    names = [f"c{n}" for n in range(100)]
    shard = keys.shard_of(f"test/{names[0]}")
    return [name for name in names if keys.shard_of(f"test/{name}") == shard][:count]
