"""A worker whose background loop dies stops loudly: it stops reading, drains, clears its
heartbeat (liveness fails) and exits non-zero, with one log line naming the loop."""

from __future__ import annotations

import logging

import pytest

from samples.echo import bot as echo
from shared.loops import LoopDied
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
