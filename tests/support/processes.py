"""Worker processes for end-to-end tests: started as `python -m worker`, stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys


async def start_workers(
    env: dict[str, str], bot: str, count: int, *options: str
) -> list[asyncio.subprocess.Process]:
    """`count` worker processes of `bot` (`python -m worker`), stderr piped for
    `stop_processes`."""
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "worker",
            "--bot",
            bot,
            *options,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]


async def stop_processes(processes: list[asyncio.subprocess.Process]) -> list[str]:
    """SIGTERM every process still running (one that already exited, crashed say, is skipped
    rather than raising and leaving the others behind) and return each one's stderr."""
    for process in processes:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    return [(await process.communicate())[1].decode() for process in processes]


async def stderr_until(
    process: asyncio.subprocess.Process, needle: bytes, within: float = 30
) -> bytes:
    """Read `process`'s piped stderr until a line holds `needle`: the moment it logged that, an
    event to wait for instead of a guess at how long it takes. Returns the lines read (a later
    `communicate()` returns only the rest); fails if the process exits or `within` passes
    first (a bound far past the usual, for a busy machine)."""
    assert process.stderr is not None
    read = b""
    async with asyncio.timeout(within):
        while needle not in read:
            line = await process.stderr.readline()
            if not line:
                raise AssertionError(f"exited before logging {needle!r}:\n{read.decode()}")
            read += line
    return read
