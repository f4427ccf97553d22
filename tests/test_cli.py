"""The command line as a user meets it: help, configuration errors, and the dev quickstart."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys

import aiohttp
import orjson
import pytest

from tests.support.activities import message
from turnstream.embedded import free_port

pytestmark = pytest.mark.e2e


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env or dict(os.environ),
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "turnstream", "--help"],
        ["-m", "turnstream", "gateway", "--help"],
        ["-m", "turnstream", "worker", "--help"],
        ["-m", "turnstream", "dev", "--help"],
        ["-m", "gateway", "--help"],
        ["-m", "worker", "--help"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")


def test_bad_configuration_is_a_startup_error_naming_the_variable() -> None:
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "TURNSTREAM_SHARDS": "zero"}
    for command in (["gateway"], ["worker", "--bot", "samples.echo:bot"]):
        result = run("-m", "turnstream", *command, env=env)
        assert result.returncode == 2
        assert "TURNSTREAM_SHARDS='zero' is not valid" in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_redis_url_and_bad_bot_are_explained() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = run("-m", "turnstream", "gateway", env=env)
    assert (result.returncode, "REDIS_URL is required" in result.stderr) == (2, True)
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    for spec, needle in [
        ("samples.echo", "expected module:attribute"),
        ("samples.nope:bot", "cannot import samples.nope"),
        ("samples.echo:robot", "has no attribute 'robot'"),
        ("samples.echo:EchoBot", "is a class; expose an instance"),
        ("samples.echo:annotations", "has no on_turn"),
    ]:
        result = run("-m", "worker", "--bot", spec, env=env)
        assert result.returncode == 2, spec
        assert needle in result.stderr, result.stderr


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError(f"output ended before {pattern!r}:\n{''.join(seen)}")
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match


async def test_dev_quickstart_echoes_through_an_embedded_redis() -> None:
    """The README's first command: `turnstream dev`, then curl a message and see the reply."""
    port, connector_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "turnstream",
        "dev",
        "--bot",
        "samples.echo:bot",
        "--port",
        str(port),
        "--connector-port",
        str(connector_port),
        env=env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            # The banner shows once the gateway and the dev connector listen.
            redis_port = int(
                (await _read_until(process.stderr, r"Redis +redis://127\.0\.0\.1:(\d+)", seen))[1]
            )
            await _read_until(process.stderr, r"Stop with Ctrl-C", seen)
            activity = message("hello", service_url=f"http://127.0.0.1:{connector_port}")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    assert response.status == 200
                async with http.post(
                    f"http://127.0.0.1:{port}/api/messages",
                    data=orjson.dumps(activity),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    assert response.status == 202
            line = await _read_until(process.stderr, r"reply in conversation", seen)
            assert 'conv-1 to 1 for user-1: message "Echo: hello"' in line.string
            process.send_signal(signal.SIGINT)
            await _read_until(process.stderr, r"embedded Redis stopped", seen)
            assert await process.wait() == 0
            # The gateway and the worker run on the loop they run on in production.
            for side in ("gateway", "worker"):
                started = [line for line in seen if f"{side} using Redis at" in line]
                assert started, f"no start-up line from the {side}"
                assert started[0].rstrip().endswith("on the uvloop event loop"), started[0]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", redis_port), timeout=1):
        pass  # the embedded server is gone
