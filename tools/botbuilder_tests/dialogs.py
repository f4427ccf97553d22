"""Run botbuilder-python's own botbuilder-dialogs unit tests against worker.bot (issue 20).

The yardstick of "a botbuilder bot ports by changing imports": Microsoft's tests for dialogs,
prompts and choices, with only their imports rewritten to turnstream's, run with this
repository's interpreter. Prints passed/failed per file and the total.

    git -C /work/.mirror/microsoft+botbuilder-python/repo archive 4.17.1 \\
        libraries/botbuilder-dialogs/tests | tar -x -C /tmp/bb
    .venv/bin/python tools/botbuilder_tests/dialogs.py /tmp/bb/libraries/botbuilder-dialogs/tests

botbuilder's test files are copied into a temporary folder and never into this repository.
Two stand-ins are written beside them, because the tests import packages that are not ours:
`aiounittest` (its AsyncTestCase is the standard library's IsolatedAsyncioTestCase) and, when
it is not installed, `recognizers_text` (only its `Culture` constants). A file that does not
import counts all its tests as failed.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

# Longest prefix first: each botbuilder module and the turnstream module its names live in.
IMPORTS = [
    ("botbuilder.dialogs.prompts", "worker.bot.dialogs.prompts"),
    ("botbuilder.dialogs.choices", "worker.bot.dialogs.choices"),
    ("botbuilder.dialogs.memory", "worker.bot.dialogs.memory"),
    ("botbuilder.dialogs", "worker.bot.dialogs"),
    ("botbuilder.core.adapters", "worker.bot.testing"),
    ("botbuilder.testing", "worker.bot.testing"),
    ("botbuilder.core.skills", "worker.bot.skills"),
    ("botbuilder.core", "worker.bot"),
    ("botbuilder.schema", "worker.bot"),
    # Channels, ClaimsIdentity and friends: the connector's names a bot sees are in worker.bot.
    ("botframework.connector", "worker.bot"),
]

AIOUNITTEST = '''"""Stand-in for aiounittest: the standard library runs async test methods."""
import unittest

AsyncTestCase = unittest.IsolatedAsyncioTestCase
'''

RECOGNIZERS_TEXT = '''"""Stand-in for recognizers_text: only the culture codes the tests name."""


class Culture:
    English = "en-us"
    Chinese = "zh-cn"
    Spanish = "es-es"
    Portuguese = "pt-br"
    French = "fr-fr"
    German = "de-de"
    Italian = "it-it"
    Japanese = "ja-jp"
    Dutch = "nl-nl"
    Korean = "ko-kr"
    Swedish = "sv-se"
    Turkish = "tr-tr"
    Hindi = "hi-in"
    EnglishOthers = "en-*"
'''

PYTEST_INI = "[pytest]\naddopts = -p no:cacheprovider\nasyncio_mode = strict\n"


def rewrite_imports(source: str) -> str:
    """`from botbuilder.x.y import ...` / `import botbuilder.x` with turnstream's module names.
    A submodule not mapped (`botbuilder.core.card_factory`) maps to its package's module."""

    def replace(match: re.Match[str]) -> str:
        keyword, module = match.group(1), match.group(2)
        for theirs, ours in IMPORTS:
            if module == theirs or module.startswith(theirs + "."):
                if module.startswith("botbuilder.dialogs.") or theirs == module:
                    return f"{keyword} {ours}{module[len(theirs) :]}"
                return f"{keyword} {ours}"
        return match.group(0)

    return re.sub(
        r"^(\s*from|\s*import)\s+((?:botbuilder|botframework)[\w.]*)", replace, source, flags=re.M
    )


def count_tests(path: Path) -> int:
    """Test functions in a file, counted from its syntax (for files that do not import)."""
    tree = ast.parse(path.read_text())
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def prepare(source: Path, work: Path) -> list[Path]:
    files = sorted(source.rglob("test_*.py"))
    for path in files:
        target = work / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite_imports(path.read_text()))
    (work / "aiounittest.py").write_text(AIOUNITTEST)
    try:
        import recognizers_text  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        (work / "recognizers_text.py").write_text(RECOGNIZERS_TEXT)
    (work / "pytest.ini").write_text(PYTEST_INI)
    return [path.relative_to(source) for path in files]


def run(work: Path, timeout: int) -> ET.Element:
    report = work / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--import-mode=importlib",
            "--continue-on-collection-errors",
            f"--timeout={timeout}",
            f"--junitxml={report}",
            ".",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    return ET.parse(report).getroot()


def outcomes(root: ET.Element, work: Path) -> tuple[dict[str, Counter[str]], dict[str, list[str]]]:
    """Per file: passed/failed counts, and the failing tests' first error line."""
    counts: dict[str, Counter[str]] = {}
    failures: dict[str, list[str]] = {}
    for case in root.iter("testcase"):
        name = case.get("name", "")
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if case.find("skipped") is not None and problem is None:
            outcome = "skipped"
        else:
            outcome = "failed" if problem is not None else "passed"
        key = _file_key(case.get("classname") or name, work)
        counts.setdefault(key, Counter())[outcome] += 1
        if problem is not None:
            failures.setdefault(key, []).append(f"{name}: {_reason(problem)}"[:240])
    return counts, failures


def _reason(problem: ET.Element) -> str:
    """The exception line of a failure (a collection error's message is only "collection
    failure"; its text ends with the `E   ImportError: ...` line)."""
    message = problem.get("message") or ""
    if message and message != "collection failure":
        return message.splitlines()[0]
    raised = [line for line in (problem.text or "").splitlines() if line.startswith("E  ")]
    return raised[-1][1:].strip() if raised else message


def _file_key(classname: str, work: Path) -> str:
    """junit's classname is `dotted.module.Class` (or `dotted.module` for a module error)."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        if not parts[end - 1]:
            continue
        candidate = Path(*parts[:end]).with_suffix(".py")
        if (work / candidate).exists():
            return str(candidate)
    return classname


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", type=Path, help="botbuilder-dialogs' tests folder (4.17.1)")
    parser.add_argument("--timeout", type=int, default=30, help="seconds a test may take")
    parser.add_argument("--failures", action="store_true", help="print each failing test")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bb-dialogs-"))
    try:
        files = prepare(args.tests.resolve(), work)
        counts, failures = outcomes(run(work, args.timeout), work)
        total = Counter[str]()
        for file in files:
            got = counts.get(str(file), Counter())
            expected = count_tests(work / file)
            if got["passed"] + got["failed"] + got["skipped"] < expected:
                # The file did not import (or a class failed to set up): its tests failed.
                got["failed"] = expected - got["passed"] - got["skipped"]
            total += got
            print(
                f"{file}: {got['passed']} passed, {got['failed']} failed"
                + (f", {got['skipped']} skipped" if got["skipped"] else "")
            )
            if args.failures:
                for line in failures.get(str(file), []):
                    print(f"    {line}")
        print(
            f"total: {total['passed']} passed, {total['failed']} failed"
            + (f", {total['skipped']} skipped" if total["skipped"] else "")
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
