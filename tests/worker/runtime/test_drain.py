"""SIGTERM stops reading, lets the in-flight turn finish and acknowledges it, then exits 0."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.processes import stderr_until, worker_env
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e


async def test_sigterm_drains_the_turn_in_flight(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "--bot",
        "tests.support.bots:slow",
        env=worker_env(settings),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await enqueue(redis, keys, message("sleep:3", activity_id="slow", service_url=service_url))
        for _ in range(600):  # wait until the worker has read it: the turn is in flight
            if await pending_count(redis, keys):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the worker did not read the entry")
        process.send_signal(signal.SIGTERM)
        # A read already under way when the signal came may still return entries (they are
        # run, not stranded); the worker starts draining once it stopped reading. What arrives
        # after that stays queued.
        early = await stderr_until(process, b"draining 1 in-flight turns")
        await enqueue(redis, keys, message("late", activity_id="late", service_url=service_url))
        async with asyncio.timeout(15):
            _, rest = await process.communicate()
        stderr = early + rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()
    assert [a["text"] for a in dev.activities()] == ["done sleep:3"]
    assert await pending_count(redis, keys) == 0
    stream = keys.stream(keys.shard_of("test/conv-1"))
    groups = await redis.xinfo_groups(stream)
    assert groups[0]["lag"] == 1  # "late" waits for the next worker
    assert b"draining 1 in-flight turns" in stderr
    assert b"on the uvloop event loop" in stderr  # the loop whose signal handling this tested


async def test_worker_waits_for_redis_instead_of_crashing(settings: Settings) -> None:
    env = {**worker_env(settings), "REDIS_URL": "redis://127.0.0.1:1/0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        "--bot",
        "samples.echo:bot",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    # Once it met the unreachable Redis (however long a busy machine takes to get there), it
    # waits for it: still running, and a SIGTERM then ends it cleanly, not a crash.
    early = await stderr_until(process, b"Redis (worker) unreachable")
    assert process.returncode is None
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(10):
        _, rest = await process.communicate()
    stderr = early + rest
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
