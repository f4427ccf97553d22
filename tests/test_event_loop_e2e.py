"""`python -m gateway` and `python -m worker` run on uvloop (shared.event_loop), as their
start-up log lines say. The worker's SIGTERM drain on it: tests/worker/runtime/test_drain.py."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator

import pytest

from shared.settings import Settings
from tests.support.processes import stderr_until, worker_env
from turnstream.embedded import free_port

pytestmark = pytest.mark.e2e


@contextlib.asynccontextmanager
async def _process(settings: Settings, *command: str) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", *command, env=worker_env(settings), stderr=asyncio.subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _line(output: bytes, needle: bytes) -> bytes:
    return next(line for line in output.splitlines() if needle in line)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_gateway_runs_on_uvloop_and_exits_0_after_a_stop_signal(
    settings: Settings, stop: signal.Signals
) -> None:
    async with _process(settings, "gateway", "--port", str(free_port())) as process:
        # Logged in the lifespan's start-up: uvicorn already holds SIGTERM by then.
        early = await stderr_until(process, b"gateway using Redis at")
        process.send_signal(stop)
        async with asyncio.timeout(15):
            _, rest = await process.communicate()
    assert _line(early, b"gateway using Redis at").endswith(b"on the uvloop event loop")
    # A clean stop exits 0, as the worker's does (uvicorn alone raises the signal again).
    assert process.returncode == 0, (early + rest).decode()
    assert f"{stop.name}: draining the gateway".encode() in rest
    assert b"Application shutdown complete" in rest
    assert b"Traceback" not in early + rest


async def test_the_worker_runs_on_uvloop(settings: Settings) -> None:
    async with _process(settings, "worker", "--bot", "samples.echo:bot") as process:
        early = await stderr_until(process, b"worker using Redis at")
    assert _line(early, b"worker using Redis at").endswith(b"on the uvloop event loop")
