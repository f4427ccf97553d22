"""A worker killed (kill -9) or frozen (SIGSTOP) in the middle of a turn: another worker takes
its entries over once they stop being renewed, in order, and a frozen worker that wakes up
cannot commit what was taken from it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.processes import start_workers, stderr_until, stop_processes, worker_env
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.redis_storage import RedisStorage
from worker.runtime.delivery import send_journal

pytestmark = pytest.mark.e2e

CLAIM_IDLE = 2.0


class Start(Protocol):
    def __call__(self, bot: str = ...) -> Awaitable[asyncio.subprocess.Process]: ...


@pytest.fixture
async def start_worker(settings: Settings) -> AsyncIterator[Start]:
    started: list[asyncio.subprocess.Process] = []

    async def start(bot: str = "tests.support.bots:slow_counter") -> asyncio.subprocess.Process:
        env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": str(CLAIM_IDLE)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            "--bot",
            bot,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.returncode is None:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            await process.communicate()


async def wait_until(predicate: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_a_killed_workers_turns_are_taken_over_in_order(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    start_worker: Start,
) -> None:
    dev, service_url = connector
    first = await start_worker()
    for n, text in enumerate(["slow 1", "two", "three"]):
        await enqueue(redis, keys, message(text, activity_id=f"m{n}", service_url=service_url))

    async def first_is_busy() -> bool:
        return await pending_count(redis, keys) > 0

    await wait_until(first_is_busy, 30)
    await asyncio.sleep(0.3)
    first.kill()  # kill -9, in the middle of the slow turn
    await first.wait()
    second = await start_worker()

    # Taken over once the claim timeout passed (not a bound on how soon: a busy machine starts
    # the worker later), then run again from the start: the slow turn takes 3 s.
    await stderr_until(second, b"took over")
    await dev.wait_for(3, within=30)
    assert [a["text"] for a in dev.activities()] == ["count 1", "count 2", "count 3"]
    assert [a["replyToId"] for a in dev.activities()] == ["m0", "m1", "m2"]

    async def all_committed() -> bool:
        return await pending_count(redis, keys) == 0

    await wait_until(all_committed, 10)


async def test_replies_a_killed_worker_sent_are_not_sent_again_by_the_next(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    start_worker: Start,
) -> None:
    dev, service_url = connector
    first = await start_worker("tests.support.bots:three_parts")
    await enqueue(redis, keys, message("go", activity_id="m0", service_url=service_url))
    await dev.wait_for(2, within=30)  # "part 1" and "part 2" went out; now it pauses

    sent_keys = f"{settings.key_prefix}:*:sent:*"

    async def both_sends_recorded() -> bool:
        records: list[Any] = [await redis.get(key) for key in await redis.keys(sent_keys)]
        return [len(send_journal.unpack(record)) for record in records] == [2]

    await wait_until(both_sends_recorded, 30)  # killed after the record, not in its window
    first.kill()
    await first.wait()
    await start_worker("tests.support.bots:three_parts")

    async def committed() -> bool:
        return await pending_count(redis, keys) == 0

    await dev.wait_for(3, within=30)
    await wait_until(committed, 30)  # the turn is over: whatever it sent is in
    texts = [a["text"] for a in dev.activities()]
    # The takeover ran the turn again; its first two sends got the recorded ids back.
    assert texts == ["part 1", "part 2", "part 3 after dev-1,dev-2"], texts
    assert not await redis.keys(sent_keys)  # the commit removed it


async def test_a_frozen_worker_cannot_commit_what_was_taken_over(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    start_worker: Start,
) -> None:
    dev, service_url = connector
    frozen = await start_worker()
    await enqueue(redis, keys, message("slow 1", activity_id="m0", service_url=service_url))

    async def frozen_is_busy() -> bool:
        return await pending_count(redis, keys) > 0

    await wait_until(frozen_is_busy, 30)
    await asyncio.sleep(0.3)
    os.kill(frozen.pid, signal.SIGSTOP)  # frozen mid-turn, past its claim timeout
    await start_worker()
    await dev.wait_for(1, within=30)  # the other worker ran the turn: "count 1"
    await enqueue(redis, keys, message("two", activity_id="m1", service_url=service_url))
    await dev.wait_for(2, within=30)
    os.kill(frozen.pid, signal.SIGCONT)  # wakes up, finishes its copy of the turn ...
    await stderr_until(frozen, b"was taken over by another worker; dropped here")

    async def committed() -> bool:
        return await pending_count(redis, keys) == 0

    await wait_until(committed, 30)
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    state = await storage.read(["test/conversations/conv-1"])
    assert state["test/conversations/conv-1"]["count"] == 2  # ... but could not commit it
    texts = [a["text"] for a in dev.activities()]
    # Nor could it reply: it checked who owns the entry before sending.
    assert texts == ["count 1", "count 2"], texts


async def test_a_long_turn_on_a_live_worker_is_not_taken_over(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    """The turn lasts 3 s, three claim timeouts of 1 s: the heartbeat keeps it its worker's."""
    dev, service_url = connector
    env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": "1"}
    workers = await start_workers(env, "tests.support.bots:slow_counter", 2)

    async def committed() -> bool:
        return await pending_count(redis, keys) == 0

    try:
        await enqueue(redis, keys, message("slow 1", activity_id="m0", service_url=service_url))
        await dev.wait_for(1, within=30)
        # Committed: a takeover (logged when it claims) could only have come before this.
        await wait_until(committed, 30)
    finally:
        logs = await stop_processes(workers)
    assert [a["text"] for a in dev.activities()] == ["count 1"]
    assert not any("took over" in log for log in logs), logs
