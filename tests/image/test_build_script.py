"""The parts of the image build and its checks that need no buildah: which Debian mirror the
local base comes from, and how a write outside /tmp is caught. Run everywhere."""

from __future__ import annotations

from pathlib import Path

from tests.image.containers import changed_since, file_clock
from tools.build_image import DEFAULT_MIRROR, debian_mirror

DEB822 = """\
Types: deb
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_the_mirror_is_the_one_apt_names_for_bookworm(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d/other.list").write_text(
        "deb https://vendor.example/apt stable main\n"
    )
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_one_line_sources_count_and_security_or_other_suites_do_not(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb http://security.example/debian-security bookworm-security main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one-line.example/debian bookworm main\n"
    )
    assert debian_mirror(tmp_path) == "http://one-line.example/debian"


def test_without_a_bookworm_source_the_mirror_is_debians_own(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb http://archive.ubuntu.com/ubuntu noble main\n")
    assert debian_mirror(tmp_path) == DEFAULT_MIRROR


def later_than(folder: Path, moment: float) -> float:
    """The file system's clock once it has moved past `moment` (it ticks every few ms)."""
    while (now := file_clock(folder)) <= moment:
        pass
    return now


def test_writes_outside_tmp_are_caught_and_those_in_tmp_are_not(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    for folder in ("tmp", "app", "etc"):
        (root / folder).mkdir(parents=True)
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    made = max(p.lstat().st_ctime for p in [root, *root.rglob("*")])
    since = later_than(tmp_path, made)
    assert changed_since(root, since) == set()
    later_than(tmp_path, since)
    (root / "tmp/scratch").write_text("fine")
    assert changed_since(root, since) == set()
    (root / "app/cache.db").write_text("not fine")
    (root / "etc/hosts").chmod(0o666)
    assert changed_since(root, since) == {"/app", "/app/cache.db", "/etc/hosts"}
