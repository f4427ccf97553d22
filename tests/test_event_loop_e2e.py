"""`python -m gateway` and `python -m worker` run on uvloop (shared.event_loop), as their
start-up log says, and shut down cleanly on SIGTERM there."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from shared.settings import Settings
from tests.support.processes import stderr_until, worker_env
from turnstream.embedded import free_port

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("command", "started", "exit_status"),
    [
        # uvicorn, once shut down gracefully, raises the SIGTERM it caught again.
        (("gateway", "--port", "{port}"), b"gateway using Redis at", -signal.SIGTERM),
        (("worker", "--bot", "samples.echo:bot"), b"worker using Redis at", 0),
    ],
    ids=["gateway", "worker"],
)
async def test_a_serving_process_runs_on_uvloop(
    settings: Settings, command: tuple[str, ...], started: bytes, exit_status: int
) -> None:
    port = str(free_port())
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *(part.format(port=port) for part in command),
        env=worker_env(settings),
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        early = await stderr_until(process, started)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            _, rest = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    line = next(line for line in early.splitlines() if started in line)
    assert line.endswith(b"on the uvloop event loop"), line
    assert process.returncode == exit_status, (early + rest).decode()
    assert b"Traceback" not in early + rest
