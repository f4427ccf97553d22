"""`turnstream dev` on a port already in use: a clear error and exit 1, not a hang."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from shared.embedded import free_port


async def test_dev_stops_with_an_error_when_its_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "turnstream", "dev", "--bot", "samples.echo:bot",
            "--port", str(port), "--connector-port", str(free_port()),
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(30):
                _, stderr = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 1
    text = stderr.decode()
    assert f"error: the gateway could not listen on 127.0.0.1:{port}" in text
    assert "embedded Redis stopped" in text
