"""A gateway whose background loop dies stops loudly: /healthz fails at once, the process exits
non-zero with one log line naming the loop."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.app import create_app
from gateway.backlog import BacklogMonitor, ShardBacklog
from shared.settings import Settings
from tests.support.http import serving
from tests.support.processes import run_patched, worker_env
from turnstream.embedded import free_port


async def test_healthz_fails_once_a_background_loop_died(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: BacklogMonitor) -> list[ShardBacklog]:
        raise RuntimeError("backlog bug")

    monkeypatch.setattr(BacklogMonitor, "measure_shards", broken)
    died = asyncio.Event()
    names: list[str] = []

    def on_loop_death(name: str) -> None:
        names.append(name)
        died.set()

    app = create_app(settings, on_loop_death=on_loop_death)
    async with serving(app) as base, aiohttp.ClientSession() as http:
        await asyncio.wait_for(died.wait(), 10)
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 503
            assert await response.json() == {
                "status": "failing",
                "reason": "background loop 'backlog poll' died",
            }
    assert names == ["backlog poll"]


@pytest.mark.e2e
async def test_a_gateway_process_whose_loop_dies_exits_non_zero_naming_it(
    settings: Settings,
) -> None:
    patch = (
        "from gateway.backlog import BacklogMonitor\n"
        "async def broken(self):\n"
        "    raise RuntimeError('backlog bug')\n"
        "BacklogMonitor.measure_shards = broken\n"
    )
    status, stderr = await run_patched(
        worker_env(settings), patch, "gateway.__main__", "--port", str(free_port())
    )
    assert status == 1, stderr
    assert stderr.count("background loop 'backlog poll' died") == 1, stderr
    assert "RuntimeError: backlog bug" in stderr
    assert "Application shutdown complete" in stderr  # stopped in order, not torn down
