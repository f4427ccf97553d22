"""docs/compatibility.md cannot drift: every public name of botbuilder-python 4.17.1 (the
`__all__` of each package, snapshot in docs/compatibility/botbuilder-4.17.1.json) is either
exported by the turnstream module it maps to, or listed in the page as not provided, with why."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = json.loads((ROOT / "docs" / "compatibility" / "botbuilder-4.17.1.json").read_text())
PAGE = (ROOT / "docs" / "compatibility.md").read_text()

MAPPING = {
    "botbuilder.core": "worker.bot",
    "botbuilder.schema": "worker.bot",
    "botbuilder.dialogs": "worker.bot.dialogs",
    "botbuilder.dialogs.prompts": "worker.bot.dialogs.prompts",
    "botbuilder.dialogs.choices": "worker.bot.dialogs.choices",
    "botbuilder.core.adapters": "worker.bot.testing",
    "botbuilder.core.teams": "worker.bot.teams",
    "botbuilder.schema.teams": "worker.bot.teams",
}


def exported(module: str) -> set[str]:
    try:
        return set(dir(importlib.import_module(module)))
    except ModuleNotFoundError:
        return set()


def listed_as_missing(package: str) -> set[str]:
    """The names in the page's section for `package` (a `## botbuilder.x` heading), in its
    table's first column."""
    section = re.search(rf"^## `{re.escape(package)}`.*?(?=^## |\Z)", PAGE, re.M | re.S)
    assert section is not None, f"docs/compatibility.md has no section for {package}"
    return set(re.findall(r"^\| `(\w+)` \|", section.group(), re.M))


@pytest.mark.parametrize("package", sorted(SNAPSHOT))
def test_each_name_is_provided_or_listed_with_its_reason(package: str) -> None:
    missing = set(SNAPSHOT[package]) - exported(MAPPING[package])
    listed = listed_as_missing(package)
    assert not missing - listed, (
        f"provide these or list them in docs/compatibility.md: {sorted(missing - listed)}"
    )
    assert not listed - missing, (
        f"now provided, remove them from docs/compatibility.md: {sorted(listed - missing)}"
    )


def test_the_counts_are_those_of_the_tables() -> None:
    """Each section's "N of M names provided" and the page's total follow from its table."""
    provided_in_all = 0
    for package, names in SNAPSHOT.items():
        section = re.search(rf"^## `{re.escape(package)}`.*?(?=^## |\Z)", PAGE, re.M | re.S)
        assert section is not None
        provided = len(names) - len(listed_as_missing(package))
        provided_in_all += provided
        assert f"{provided} of {len(names)} names provided" in section.group(), package
    total = sum(len(names) for names in SNAPSHOT.values())
    assert f"In all: **{provided_in_all} of {total}** names provided." in PAGE
