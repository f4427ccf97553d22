"""The Dockerfile's shape, checked without Docker: each check is shown to catch its regression."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.k8s import dockerfile
from tests.k8s.consistency import parse_command
from tests.k8s.manifests import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text()
PYPROJECT = (ROOT / "pyproject.toml").read_text()


def test_the_dockerfile_and_dockerignore_hold_what_the_image_needs() -> None:
    assert dockerfile.problems(DOCKERFILE, DOCKERIGNORE, PYPROJECT) == []
    stages = dockerfile.parse(DOCKERFILE)
    assert [stage.name for stage in stages] == ["build", "runtime"]
    assert dockerfile.image_uid() == 10001
    assert dockerfile.exec_form(stages[-1].all("ENTRYPOINT")[-1]) == ["turnstream"]


def test_the_default_command_is_a_gateway_reachable_from_outside_the_container() -> None:
    command = dockerfile.exec_form(dockerfile.parse(DOCKERFILE)[-1].all("CMD")[-1])
    assert command is not None
    parsed = parse_command(command)
    assert not isinstance(parsed, str), parsed
    assert (parsed.command, parsed.host) == ("gateway", "0.0.0.0")


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda d: d.replace("AS build", "AS build\nFROM python:3.11-slim AS x"), None),
        (lambda d: replace(d, "USER 10001:10001", "USER turnstream"), "numeric non-root USER"),
        (lambda d: replace(d, "USER 10001:10001", "USER 0"), "numeric non-root USER"),
        (
            lambda d: replace(
                d, "COPY --from=build", "RUN apt-get install -y gcc\nCOPY --from=build"
            ),
            "build tools belong in a build stage",
        ),
        (
            lambda d: replace(
                d,
                "COPY --from=build /opt/turnstream",
                "COPY . /src\nCOPY --from=build /opt/turnstream",
            ),
            "from the context",
        ),
        (lambda d: replace(d, 'ENTRYPOINT ["turnstream"]', 'ENTRYPOINT ["python"]'), "ENTRYPOINT"),
        (lambda d: replace(d, 'ENTRYPOINT ["turnstream"]', "ENTRYPOINT turnstream"), "ENTRYPOINT"),
        (
            lambda d: replace(
                d, "ARG PYTHON_IMAGE=python:3.11-slim-bookworm", "ARG PYTHON_IMAGE=python:3.11"
            ),
            "not slim",
        ),
        (lambda d: replace(d, "COPY samples/ /app/samples/\n", ""), "built without samples"),
        (
            lambda d: replace(d, "COPY requirements/turnstream.txt requirements/\n", ""),
            "built without requirements",
        ),
        (lambda d: d[d.index("# --- runtime") :], "not multi-stage"),
    ],
)
def test_each_dockerfile_check_catches_its_regression(
    mutation: Callable[[str], str], expected: str | None
) -> None:
    found = dockerfile.problems(mutation(DOCKERFILE), DOCKERIGNORE, PYPROJECT)
    if expected is None:  # an extra stage in between is fine: the last one is the image
        assert found == []
    else:
        assert any(expected in problem for problem in found), found


@pytest.mark.parametrize("entry", [".venv", ".git", "tests", "**/__pycache__", ".mypy_cache"])
def test_dockerignore_must_keep_local_state_out(entry: str) -> None:
    ignore = "\n".join(line for line in DOCKERIGNORE.splitlines() if line.strip() != entry)
    found = dockerfile.problems(DOCKERFILE, ignore, PYPROJECT)
    assert any("does not exclude" in problem for problem in found), found


def test_dockerignore_must_not_hide_what_the_dockerfile_copies() -> None:
    found = dockerfile.problems(DOCKERFILE, DOCKERIGNORE + "README.md\n", PYPROJECT)
    assert found == ["COPY README.md, but .dockerignore keeps it out of the context"]
