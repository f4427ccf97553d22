"""A worker whose background loop dies stops loudly: it stops reading, drains, clears its
heartbeat (liveness fails) and exits non-zero, with one log line naming the loop."""

from __future__ import annotations

import asyncio
import logging

import pytest

import shared.loops as loops_module
from samples.echo import bot as echo
from shared.loops import BackgroundLoops, LoopDied
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.processes import run_patched, worker_env
from worker.runtime.delivery.leases import Leases
from worker.runtime.heartbeat import worker_id
from worker.runtime.process import run_worker


async def test_a_dead_renewal_loop_stops_the_worker_and_its_heartbeat(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(self: Leases) -> None:
        raise RuntimeError("renewal bug")

    monkeypatch.setattr(Leases, "renew_all", broken)
    with caplog.at_level(logging.INFO), pytest.raises(LoopDied) as raised:
        await run_worker(settings, echo, handle_signals=False)  # only the death can end it
    assert raised.value.name == "lease renewal"
    died = [r for r in caplog.records if "background loop" in r.getMessage()]
    assert [r.getMessage() for r in died] == [
        "background loop 'lease renewal' died; stopping the process"
    ]
    assert any("stopped: 0 turns done" in r.getMessage() for r in caplog.records)  # in order
    assert await redis.get(keys.worker_heartbeat(worker_id())) is None  # the probe fails


@pytest.mark.e2e
async def test_a_worker_process_whose_loop_dies_exits_non_zero_naming_it(
    settings: Settings,
) -> None:
    patch = (
        "from worker.runtime.delivery.leases import Leases\n"
        "async def broken(self):\n"
        "    raise RuntimeError('renewal bug')\n"
        "Leases.renew_all = broken\n"
    )
    status, stderr = await run_patched(
        worker_env(settings), patch, "worker.__main__", "--bot", "samples.echo:bot"
    )
    assert status == 1, stderr
    assert stderr.count("background loop 'lease renewal' died") == 1, stderr
    assert "RuntimeError: renewal bug" in stderr
    assert "stopped: 0 turns done" in stderr


async def test_a_loop_that_loses_its_cancellation_is_cancelled_again(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving the group must not wait forever on a loop whose cancellation was turned into
    something it retries on (Python 3.11: a cancel meeting an expiring timeout)."""
    monkeypatch.setattr(loops_module, "_CANCEL_AGAIN_SECONDS", 0.05)
    lost = 0

    async def stubborn() -> None:
        nonlocal lost
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if lost:
                    raise
                lost += 1
                task = asyncio.current_task()
                assert task is not None
                task.uncancel()  # as a timeout that took the cancellation for its own does

    async with asyncio.timeout(10):
        async with BackgroundLoops() as group:
            group.start("stubborn", stubborn())
            await asyncio.sleep(0)
    assert lost == 1
    assert "'stubborn' ignored its cancellation" in caplog.text
