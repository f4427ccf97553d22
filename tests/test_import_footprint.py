"""What a process imports is what it keeps resident (issue 24: gateway and worker <= 60 MB each):
`turnstream gateway` must not load the worker, `turnstream worker` not the gateway, and the
gateway no HTTP client library. Each check runs in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

WORKER_ONLY = ("worker.runtime.process", "worker.bot", "worker.connector", "aiohttp")
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
    assert loaded(modules, WORKER_ONLY + GATEWAY_ONLY + COMMANDS_ONLY) == []


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        (
            "import gateway.__main__, gateway.app, gateway.server, gateway.authentication",
            WORKER_ONLY,
        ),
        ("import worker.__main__, worker.runtime.process, worker.runtime.loading", GATEWAY_ONLY),
    ],
    ids=["gateway", "worker"],
)
def test_a_process_loads_only_its_own_stack(code: str, absent: tuple[str, ...]) -> None:
    assert loaded(imported_after(code), absent) == []
