"""The locks in requirements/ cover what pyproject.toml asks for, with hashes (decision 0015):
a dependency added to pyproject without `requirements/refresh` fails here, not on a fresh
machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    """The normalized project name of a requirement string (PEP 503)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def _pinned(lock: str) -> dict[str, str]:
    """name: the line pinning it, for each `name==version` in a lock file."""
    text = (ROOT / "requirements" / lock).read_text()
    return {_name(line): line for line in text.splitlines() if re.match(r"[A-Za-z0-9].*==", line)}


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [_name(r) for r in PROJECT["dependencies"]]
DEV = [_name(r) for r in PROJECT["optional-dependencies"]["dev"] if _name(r) != "turnstream"]


@pytest.mark.parametrize(
    ("lock", "names"), [("turnstream.txt", RUNTIME), ("dev.txt", RUNTIME + DEV)]
)
def test_every_dependency_is_pinned_with_hashes(lock: str, names: list[str]) -> None:
    pinned = _pinned(lock)
    missing = sorted(set(names) - set(pinned))
    assert not missing, f"not in requirements/{lock}: {missing}; run requirements/refresh --keep"
    # A requirement's block runs from its `name==version` line to the next one.
    text = (ROOT / "requirements" / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    unhashed = [b.split()[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert not unhashed, f"pinned without a hash in requirements/{lock}: {unhashed}"


def test_the_dev_lock_pins_what_the_runtime_lock_pins() -> None:
    runtime, dev = _pinned("turnstream.txt"), _pinned("dev.txt")
    differ = {
        name: (runtime[name].split()[0], dev.get(name, "(missing)").split()[0])
        for name in runtime
        if runtime[name].split()[0] != dev.get(name, "(missing)").split()[0]
    }
    assert not differ, differ


def test_the_build_backend_is_locked_for_the_no_isolation_install() -> None:
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    assert {_name(r) for r in backend} <= set(_pinned("dev.txt"))
