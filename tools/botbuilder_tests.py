"""Run botbuilder-python's own unit tests against `worker.bot`, with only the imports changed.

Issue 20's yardstick for "a botbuilder-python bot ports by changing its imports": take the
tests Microsoft wrote for botbuilder-python 4.17.1, rewrite their `botbuilder.*` imports to
turnstream's modules (the table in docs/compatibility.md), run them with this repository's
interpreter, and count what passes, per file.

The tests are not part of this repository and are never copied into it: they are read from a
botbuilder-python source given on the command line, either a checkout or a bare git directory
(e.g. the one the `fetch` tool brings, read at a tag), and copied into a temporary folder that is
removed afterwards. The PyPI distributions of 4.17.1 ship no tests.

    .venv/bin/python tools/botbuilder_tests.py /work/.mirror/microsoft+botbuilder-python/repo \
        --ref 4.17.1 core schema

`--as-is` runs the same files without rewriting, with another interpreter where botbuilder
4.17.1 is installed (`--python /tmp/bb/bin/python`): the ceiling, since a few of botbuilder's own
tests need network or packages its distribution does not pull in.

Not a test of the suite (pytest collects only `tests/`): a measurement, run by hand.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Where each botbuilder library keeps its tests in the botbuilder-python repository.
PACKAGES = {
    "core": "libraries/botbuilder-core/tests",
    "schema": "libraries/botbuilder-schema/tests",
    "dialogs": "libraries/botbuilder-dialogs/tests",
    "testing": "libraries/botbuilder-testing/tests",
}

# botbuilder module → turnstream module, most specific first. A submodule import
# (`from botbuilder.core.turn_context import TurnContext`) maps with its package: turnstream
# exports the same names from the package. `botframework.connector` (and `.auth`) is
# botbuilder's connector library; the few names bots take from it (`Channels`,
# `MicrosoftAppCredentials`) are asked of `worker.bot`.
MODULE_MAP = (
    ("botbuilder.core.adapters", "worker.bot.testing"),
    ("botbuilder.testing", "worker.bot.testing"),
    ("botbuilder.core.teams", "worker.bot.teams"),
    ("botbuilder.schema.teams", "worker.bot.teams"),
    ("botbuilder.dialogs.prompts", "worker.bot.dialogs.prompts"),
    ("botbuilder.dialogs.choices", "worker.bot.dialogs.choices"),
    ("botbuilder.dialogs", "worker.bot.dialogs"),
    ("botbuilder.core", "worker.bot"),
    ("botbuilder.schema", "worker.bot"),
    ("botframework.connector", "worker.bot"),
)

IMPORT_LINE = re.compile(r"^(?P<indent>\s*)(?P<keyword>from|import)\s+(?P<module>[\w.]+)", re.M)

# botbuilder's tests use aiounittest's AsyncTestCase (coroutine test methods run to completion
# on an event loop); the standard library's IsolatedAsyncioTestCase does the same. Put on the
# path only when the interpreter has no aiounittest.
AIOUNITTEST_STAND_IN = '''"""Stand-in for aiounittest, written for tools/botbuilder_tests.py."""
from unittest import IsolatedAsyncioTestCase as AsyncTestCase

__all__ = ["AsyncTestCase"]
'''

PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider --continue-on-collection-errors
timeout = 60
asyncio_default_fixture_loop_scope = function
"""


def turnstream_module(module: str) -> str:
    for botbuilder, turnstream in MODULE_MAP:
        if module == botbuilder or module.startswith(botbuilder + "."):
            return turnstream
    return module


def rewrite_imports(source: str) -> str:
    """Only the module of each import statement changes; names, code and asserts stay."""

    def replace(match: re.Match[str]) -> str:
        module = turnstream_module(match["module"])
        return f"{match['indent']}{match['keyword']} {module}"

    return IMPORT_LINE.sub(replace, source)


def expected_tests(path: Path) -> int:
    """How many tests a file holds (test functions, and `test*` methods of `Test*` classes),
    so a file that cannot even be imported counts all of them as failed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    count = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            count += node.name.startswith("test")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            count += sum(
                isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and item.name.startswith("test")
                for item in node.body
            )
    return count


@dataclass
class FileResult:
    path: str
    expected: int
    passed: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return max(self.expected, self.passed + self.skipped + len(self.failures))

    @property
    def failed(self) -> int:
        return self.total - self.passed - self.skipped


def copy_tests(source: Path, ref: str | None, package: str, into: Path) -> Path:
    """The package's tests from a checkout or (with `ref`) from a git directory."""
    inside = PACKAGES[package]
    if ref is None:
        shutil.copytree(source / inside, into / package)
        return into / package
    archive = subprocess.run(
        ["git", f"--git-dir={source}", "archive", ref, inside],
        check=True,
        capture_output=True,
    ).stdout
    unpacked = into / "unpacked"
    unpacked.mkdir(exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(unpacked)], input=archive, check=True)
    (unpacked / inside).rename(into / package)
    return into / package


def first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    reason = next((line for line in reversed(lines) if line.startswith("E ")), None)
    return (reason or (lines[-1] if lines else "")).removeprefix("E ").strip()[:200]


def read_report(report: Path, folder: Path, results: dict[str, FileResult]) -> None:
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "")
        name = case.get("name", "")
        relative = collection_error_file(module, name, folder) or module_file(module, folder)
        result = results.get(relative)
        if result is None:
            continue
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            label = f"{module.rsplit('.', 1)[-1]}.{name}" if module else "(import)"
            result.failures.append((label, first_line(problem.text or problem.get("message"))))
        elif case.find("skipped") is not None:
            result.skipped += 1
        else:
            result.passed += 1


def collection_error_file(module: str, name: str, folder: Path) -> str | None:
    """A file that failed to import is reported as one case named after its module."""
    if module:
        return None
    candidate = name.replace(".", "/") + ".py"
    return candidate if (folder / candidate).exists() else None


def module_file(classname: str, folder: Path) -> str:
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        candidate = "/".join(parts[:cut]) + ".py"
        if (folder / candidate).exists():
            return candidate
    return classname


def run_package(
    python: str, folder: Path, files: Iterable[Path], extra_path: Path | None
) -> dict[str, FileResult]:
    results = {
        str(path.relative_to(folder)): FileResult(
            str(path.relative_to(folder)), expected_tests(path)
        )
        for path in files
    }
    report = folder / "report.xml"
    environment = dict(os.environ)
    if extra_path is not None:
        inherited = environment.get("PYTHONPATH")
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(extra_path), inherited]))
    subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-c",
            str(folder / "pytest.ini"),
            f"--rootdir={folder}",
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",
            *results,
        ],
        cwd=folder,
        env=environment,
        capture_output=True,
        check=False,
    )
    if report.exists():
        read_report(report, folder, results)
    return results


def has_module(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, check=False)
    return probe.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("source", type=Path, help="botbuilder-python checkout or git directory")
    parser.add_argument("packages", nargs="*", help=f"some of {', '.join(PACKAGES)}")
    parser.add_argument("--ref", help="tag or commit to read from a git directory (e.g. 4.17.1)")
    parser.add_argument("--python", default=sys.executable, help="interpreter to run them with")
    parser.add_argument("--as-is", action="store_true", help="do not rewrite the imports")
    parser.add_argument("--failures", action="store_true", help="list each failing test")
    parser.add_argument("-k", dest="only", help="only files whose path contains this text")
    args = parser.parse_intermixed_args(argv)
    args.packages = args.packages or ["core", "schema"]
    unknown = set(args.packages) - set(PACKAGES)
    if unknown:
        parser.error(f"unknown packages {sorted(unknown)}; choose among {', '.join(PACKAGES)}")

    grand_passed = grand_total = 0
    with tempfile.TemporaryDirectory(prefix="botbuilder-tests-") as temporary:
        workspace = Path(temporary)
        shims = workspace / "shims"
        shims.mkdir()
        (shims / "aiounittest.py").write_text(AIOUNITTEST_STAND_IN)
        extra_path = None if has_module(args.python, "aiounittest") else shims
        for package in args.packages:
            folder = copy_tests(args.source, args.ref, package, workspace)
            (folder / "pytest.ini").write_text(PYTEST_INI)
            files = sorted(
                path
                for path in folder.rglob("test_*.py")
                if not args.only or args.only in str(path.relative_to(folder))
            )
            for path in folder.rglob("*.py"):
                if not args.as_is:
                    path.write_text(rewrite_imports(path.read_text(encoding="utf-8")))
            results = run_package(args.python, folder, files, extra_path)
            passed = sum(result.passed for result in results.values())
            total = sum(result.total for result in results.values())
            grand_passed += passed
            grand_total += total
            print(f"{package}: {passed} of {total} passed")
            for result in results.values():
                print(
                    f"  {result.path:<55} {result.passed:>3} passed {result.failed:>3} failed"
                    + (f" {result.skipped:>3} skipped" if result.skipped else "")
                )
                if args.failures:
                    for label, reason in result.failures:
                        print(f"      {label}: {reason}")
    print(f"all: {grand_passed} of {grand_total} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
