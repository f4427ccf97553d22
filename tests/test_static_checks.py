"""Ruff, mypy --strict and import-linter are part of the test run, so the rules cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        pytest.param(["mypy"], marks=pytest.mark.slow),
        ["lint-imports"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict", "import-linter"],
)
@pytest.mark.timeout(300)
def test_static_check(command: list[str]) -> None:
    tool, *args = command
    # The tools beside this interpreter (the [dev] extra), not whatever is on PATH.
    argv = [str(Path(sys.executable).parent / tool), *args]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout + result.stderr
