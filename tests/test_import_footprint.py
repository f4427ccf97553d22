"""What a process imports is what it keeps resident (issue 24: gateway and worker <= 60 MB each):
`turnstream gateway` must not load the worker, `turnstream worker` not the gateway, and neither
an HTTP client library. Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

WORKER_ONLY = ("worker.runtime.process", "worker.bot", "worker.connector")
HTTP_CLIENT_LIBRARIES = ("aiohttp", "httpx")
"""~11 MB resident for aiohttp: neither process needs one (the worker has its own keep-alive
client; aiohttp loads only for `ConnectorClient.over_aiohttp`, a benchmark's baseline)."""
GATEWAY_ONLY = ("gateway.app", "uvicorn", "starlette", "jwt")
COMMANDS_ONLY = ("turnstream.dev", "turnstream.loadtest.runner", "turnstream.loadtest.report")


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.startswith(packages))


def test_building_the_command_line_loads_no_stack() -> None:
    modules = imported_after("from turnstream.cli import build_parser\nbuild_parser()")
    assert loaded(modules, WORKER_ONLY + GATEWAY_ONLY + COMMANDS_ONLY + HTTP_CLIENT_LIBRARIES) == []


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        (
            "import gateway.__main__, gateway.app, gateway.server, gateway.authentication",
            WORKER_ONLY + HTTP_CLIENT_LIBRARIES,
        ),
        (
            "import worker.__main__, worker.runtime.process, worker.runtime.loading",
            GATEWAY_ONLY + HTTP_CLIENT_LIBRARIES,
        ),
    ],
    ids=["gateway", "worker"],
)
def test_a_process_loads_only_its_own_stack(code: str, absent: tuple[str, ...]) -> None:
    assert loaded(imported_after(code), absent) == []
