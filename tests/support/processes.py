"""Worker processes for end-to-end tests: started as `python -m worker`, stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from shared.settings import Settings


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a gateway or worker process on the test's server and key prefix."""
    assert settings.redis_url is not None
    return {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "TURNSTREAM_KEY_PREFIX": settings.key_prefix,
        "TURNSTREAM_SHARDS": str(settings.shards),
        "TURNSTREAM_LOG_FORMAT": "text",
        "TURNSTREAM_LOG_LEVEL": "INFO",
        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",  # the test connectors are on loopback
        "TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS": "0",  # the tests count connector requests
    }


async def run_patched(env: dict[str, str], patch: str, main: str, *args: str) -> tuple[int, str]:
    """Run `main(list(args))` (a module's CLI entry, e.g. "gateway.__main__") in a new Python
    process after `patch` (Python source: the fault to inject) ran in it; wait up to a minute
    for it to exit. Returns its exit status and stderr."""
    source = f"import sys\n{patch}\nfrom {main} import main\nsys.exit(main({list(args)!r}))\n"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", source, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(60):
            _, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stderr.decode()


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
