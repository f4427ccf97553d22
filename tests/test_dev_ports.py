"""`turnstream dev` that cannot start (a port in use, no server to embed): a clear error and
exit 1, not a hang or a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from turnstream.embedded import free_port

pytestmark = pytest.mark.e2e


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
    assert "Traceback" not in text
    assert "embedded Redis" not in text  # refused before anything started


async def test_dev_without_a_server_to_embed_says_what_to_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["TURNSTREAM_EMBEDDED_SERVER"] = str(tmp_path / "no-such-valkey-server")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "turnstream", "dev", "--bot", "samples.echo:bot",
        "--port", str(free_port()), "--connector-port", str(free_port()),
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):
        _, stderr = await process.communicate()
    assert process.returncode == 1
    text = stderr.decode()
    assert "error: embedded server" in text and "no-such-valkey-server" in text
    assert "Traceback" not in text
