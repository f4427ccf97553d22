"""Reading the Dockerfile without Docker: its stages and instructions, and what they must hold."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.k8s.manifests import ROOT

BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|c\+\+|clang|make|cmake|build-essential|[\w.+-]+-dev|rustc|cargo|"
    r"pip install|apt-get install|apk add)\b"
)
"""What a RUN of the final stage must not mention: compilers, headers, installers."""

IGNORED = (".git", ".venv", "tests", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache")
"""What .dockerignore must keep out of the build context."""


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)
    """(KEYWORD, arguments) in order."""

    def all(self, keyword: str) -> list[str]:
        return [arguments for word, arguments in self.instructions if word == keyword]


def parse(text: str) -> list[Stage]:
    """The stages of a Dockerfile, with global ARG defaults substituted into FROM."""
    defaults: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, arguments in _instructions(text):
        if keyword == "FROM":
            words = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), arguments).split()
            words = [w for w in words if not w.startswith("--platform")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif not stages:
            if keyword == "ARG" and "=" in arguments:
                key, value = arguments.split("=", 1)
                defaults[key.strip()] = value.strip()
        else:
            stages[-1].instructions.append((keyword, arguments))
    return stages


def _instructions(text: str) -> list[tuple[str, str]]:
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    result = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), " ".join(arguments.split())))
    return result


def user_id(stage: Stage) -> int | None:
    """The numeric uid the stage ends as, or None (unset or a name)."""
    users = stage.all("USER")
    if not users:
        return None
    uid = users[-1].split(":", 1)[0]
    return int(uid) if uid.isdigit() else None


def image_uid() -> int:
    """The uid of the image's runtime user, as the Dockerfile sets it."""
    uid = user_id(parse((ROOT / "Dockerfile").read_text())[-1])
    assert uid is not None
    return uid


def exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _context_sources(stage: Stage) -> set[str]:
    """The top-level context paths a stage COPYs (not those copied from another stage)."""
    sources = set()
    for arguments in stage.all("COPY"):
        words = arguments.split()
        if any(w.startswith("--from=") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources |= {(Path(source).parts or (".",))[0] for source in paths[:-1]}
    return sources


def _copied_from(stage: Stage) -> set[str]:
    """The stages a stage COPYs --from."""
    return {
        m[1]
        for arguments in stage.all("COPY")
        for m in [re.search(r"--from=(\S+)", arguments)]
        if m
    }


def problems(dockerfile: str, dockerignore: str, pyproject: str) -> list[str]:
    """What is wrong with the Dockerfile and .dockerignore texts, given pyproject.toml's."""
    stages = parse(dockerfile)
    if len(stages) < 2:
        return ["not multi-stage: the final image would carry what built it"]
    project = tomllib.loads(pyproject)
    found = [f"{s.name or s.base}: base {s.base} is not slim Python 3.11" for s in stages]
    found = [p for p, s in zip(found, stages, strict=True) if not _slim_311(s.base)]
    found += _final_stage_problems(stages, project)
    found += _context_problems(stages, dockerignore, project)
    return found


def _slim_311(base: str) -> bool:
    repository, _, tag = base.partition(":")
    return repository.rsplit("/", 1)[-1] == "python" and tag.startswith("3.11") and "slim" in tag


def _final_stage_problems(stages: list[Stage], project: dict[str, Any]) -> list[str]:
    final = stages[-1]
    found = []
    uid = user_id(final)
    if uid is None or uid == 0:
        found.append("the final stage does not end as a numeric non-root USER")
    for command in final.all("RUN"):
        match = BUILD_TOOLS.search(command)
        if match:
            found.append(f"the final stage runs {match[0]!r}: build tools belong in a build stage")
    if not _copied_from(final) & {s.name for s in stages[:-1]}:
        found.append("the final stage copies nothing from a build stage")
    if _context_sources(final):
        found.append(f"the final stage copies {sorted(_context_sources(final))} from the context")
    scripts = project["project"].get("scripts", {})
    entrypoints = final.all("ENTRYPOINT")
    entry = exec_form(entrypoints[-1]) if entrypoints else None
    if not entry or entry[0] not in scripts:
        found.append(
            f"the ENTRYPOINT {entry} is not a console script of pyproject {sorted(scripts)}"
        )
    return found


def _context_problems(stages: list[Stage], dockerignore: str, project: dict[str, Any]) -> list[str]:
    patterns = [
        line.strip().rstrip("/")
        for line in dockerignore.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    found = []
    for name in IGNORED:
        if not any(fnmatch.fnmatch(name, p.removeprefix("**/")) for p in patterns):
            found.append(f".dockerignore does not exclude {name}")
    copied = set().union(*(_context_sources(stage) for stage in stages))
    for source in sorted(copied):
        if any(fnmatch.fnmatch(source, p) for p in patterns):
            found.append(f"COPY {source}, but .dockerignore keeps it out of the context")
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = [p.rstrip("*") for p in include]
    readme = project["project"].get("readme")
    # The lock it installs, and the example bots the base manifests run (not in the wheel).
    for needed in ["pyproject.toml", readme, "requirements", "samples", *packages]:
        if needed and needed not in copied:
            found.append(f"the image is built without {needed}")
    return found
