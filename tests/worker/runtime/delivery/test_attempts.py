"""What counts against TURNSTREAM_MAX_DELIVERIES is how often a turn started, across workers: not
how often its entry was delivered (worker.runtime.delivery.attempts)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import Any

import pytest

from samples.echo import bot as echo
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.processes import worker_env
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker


async def test_an_entry_only_held_by_workers_that_died_is_run_not_dead_lettered(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    fast = dataclasses.replace(settings, claim_idle_seconds=1, max_deliveries=2)
    entry_id = await enqueue(redis, keys, message("hi", service_url=service_url))
    stream = keys.stream(keys.shard_of("test/conv-1"))
    await redis.xgroup_create(stream, CONSUMER_GROUP, id="0")
    # Read by a worker, then taken over by four more, each killed before the turn started; the
    # last one's claim was a minute ago, so the entry is abandoned now.
    await redis.xreadgroup(CONSUMER_GROUP, "dead-0", {stream: ">"})
    for n in range(1, 5):
        await redis.xclaim(stream, CONSUMER_GROUP, f"dead-{n}", 0, [entry_id], idle=60_000)
    (row,) = await redis.xpending_range(stream, CONSUMER_GROUP, "-", "+", 10)
    assert row["times_delivered"] == 5 > fast.max_deliveries

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(fast, echo, handle_signals=False, stop=stop))
    await dev.wait_for(1, within=10)
    stop.set()
    await worker

    assert [a["text"] for a in dev.activities()] == ["Echo: hi"]
    assert await redis.xlen(keys.dead_letters(keys.shard_of("test/conv-1"))) == 0
    assert await pending_count(redis, keys) == 0


@pytest.mark.e2e
async def test_a_turn_that_kills_its_worker_every_time_is_dead_lettered(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    """Nothing fails in place here: each try dies with its worker. The first try on the worker
    that read the entry is not recorded (that keeps a normal turn at two round trips), so the
    turn runs once more than the limit, and the next worker dead-letters it."""
    dev, service_url = connector
    env = {
        **worker_env(settings),
        "TURNSTREAM_CLAIM_IDLE_SECONDS": "1",
        "TURNSTREAM_MAX_DELIVERIES": "1",
    }
    await enqueue(redis, keys, message("crash", activity_id="a", service_url=service_url))
    await enqueue(redis, keys, message("next", activity_id="b", service_url=service_url))

    crashes = 0
    while not dev.received and crashes < 5:
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "worker", "--bot", "tests.support.bots:kills_its_worker"),
            env=env,
            stderr=asyncio.subprocess.DEVNULL,
        )
        replied = asyncio.create_task(dev.wait_for(1, within=20))
        died = asyncio.create_task(worker.wait())
        await asyncio.wait({replied, died}, return_when=asyncio.FIRST_COMPLETED)
        if died.done():
            crashes += 1
            replied.cancel()
            continue
        worker.terminate()
        await died

    assert crashes == 2  # the limit, plus the unrecorded first try
    assert [a["text"] for a in dev.activities()] == ["ok next"]  # the conversation moved on
    entries: Any = await redis.xrange(keys.dead_letters(keys.shard_of("test/conv-1")))
    ((_, fields),) = entries
    assert fields[b"reason"] == b"tries without finishing: 1 (limit 1)"  # 1 counted
    assert await pending_count(redis, keys) == 0
