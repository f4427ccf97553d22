"""The liveness heartbeat: `turnstream worker --check` follows a real worker's life."""

from __future__ import annotations

import asyncio
import sys

import pytest

from samples.echo import bot as echo
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.processes import worker_env
from tests.test_takeover_e2e import wait_until
from worker.runtime.heartbeat import HEARTBEAT_TTL_SECONDS, Heartbeat, read_heartbeat, worker_id
from worker.runtime.process import run_worker


async def check(settings: Settings) -> tuple[int, str]:
    """Run the probe's command as the kubelet would: a process of its own on the same host."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "turnstream",
        "worker",
        "--check",
        env=worker_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(20):
        output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def heartbeat_is(redis: Redis, key: str, *, present: bool) -> bool:
    return (await read_heartbeat(redis, key) is not None) == present


@pytest.mark.e2e
async def test_check_passes_while_the_worker_runs_and_fails_once_it_stopped(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    assert await check(settings) == (
        1,
        f"worker {worker_id()}: no heartbeat in the last {HEARTBEAT_TTL_SECONDS} s\n",
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, echo, handle_signals=False, stop=stop))
    try:
        key = keys.worker_heartbeat(worker_id())
        await wait_until(lambda: heartbeat_is(redis, key, present=True), within=10)
        code, output = await check(settings)
        assert code == 0, output
        assert output.startswith(f"worker {worker_id()}: alive (")
        assert "turns_done=0" in output
        assert 0 < await redis.ttl(key) <= HEARTBEAT_TTL_SECONDS
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await worker
    assert (await check(settings))[0] == 1


async def test_a_heartbeat_nobody_renews_expires(redis: Redis, keys: Keyspace) -> None:
    key = keys.worker_heartbeat("killed-pod")
    beat = asyncio.create_task(Heartbeat(redis, key, lambda: "beat", ttl=1).run())
    await wait_until(lambda: heartbeat_is(redis, key, present=True), within=5)
    assert await read_heartbeat(redis, key) == "beat"
    beat.cancel()  # as kill -9 would: no clear()
    await wait_until(lambda: heartbeat_is(redis, key, present=False), within=5)
    assert await redis.exists(key) == 0


async def test_check_reports_an_unreachable_redis_as_not_alive(settings: Settings) -> None:
    unreachable = Settings(
        redis_url="redis://127.0.0.1:1/0", key_prefix=settings.key_prefix, shards=settings.shards
    )
    code, output = await check(unreachable)
    assert code == 1
    assert "cannot read its heartbeat" in output
    assert "Traceback" not in output
