"""Build the turnstream image with buildah, with or without a registry to pull the base from.

    python3 tools/build_image.py --tag turnstream:dev            # official base if reachable
    python3 tools/build_image.py --tag turnstream:dev --base local

The Dockerfile's base is `python:3.11-slim-bookworm`. Where that image can be pulled, this is a
plain `buildah bud`. Where it cannot (no registry reachable, as on this project's CI machines),
the base is made here: `debootstrap --variant=minbase` of Debian bookworm with Debian's Python
3.11, from the Debian mirror the machine's apt sources name, imported with `buildah from
scratch` and passed as `--build-arg PYTHON_IMAGE`. That base carries the machine's CA bundle
(`/etc/ssl/certs/ca-certificates.crt`), so `pip` in the build trusts what the machine's own
`pip` trusts (a proxy's CA, say).

Storage is buildah's `vfs` driver and RUN steps use `--isolation chroot`: neither needs a
kernel overlay, user namespaces nor a container runtime, so the script runs as root in a plain
VM or container. Needs `buildah` (and `debootstrap` for a local base): Debian
`apt-get install -y buildah debootstrap`. Only the standard library is used, so the script runs
with the system's python3 outside the project's virtualenv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_BASE = "docker.io/library/python:3.11-slim-bookworm"
SUITE = "bookworm"  # the Debian release whose python3 is 3.11, as the official base's
DEFAULT_MIRROR = "http://deb.debian.org/debian"
LOCAL_BASE = "localhost/turnstream-base:bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What a container's root filesystem does not need: package indexes and caches, documentation,
# translations. About half of what debootstrap leaves.
TRIMMED = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)


class BuildError(Exception):
    """A step of the build failed; the message names it."""


@dataclass(frozen=True)
class Buildah:
    """The buildah command on one storage: vfs, at `root` (None: buildah's default)."""

    root: Path | None = None

    def command(self, *args: str) -> list[str]:
        storage = ["--storage-driver", "vfs"]
        if self.root is not None:
            storage += ["--root", str(self.root / "storage"), "--runroot", str(self.root / "run")]
        return ["buildah", *storage, *args]

    def __call__(self, *args: str, timeout: float = 600) -> str:
        """Run buildah; its stdout. A failure raises BuildError with its stderr."""
        try:
            done = subprocess.run(
                self.command(*args), capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise BuildError(f"buildah {args[0]} did not finish within {timeout:.0f} s") from e
        if done.returncode != 0:
            raise BuildError(f"buildah {' '.join(args[:2])} failed:\n{done.stderr.strip()}")
        return done.stdout.strip()

    def image_size(self, image: str) -> int:
        """The image's size in bytes, uncompressed (as `docker images` reports it)."""
        manifest = json.loads(json.loads(self("inspect", "--type", "image", image))["Manifest"])
        return sum(int(layer["size"]) for layer in manifest["layers"])

    def remove_everything(self) -> None:
        """Remove every container and image of this storage (only for a storage of one's own)."""
        self("rm", "--all")
        self("rmi", "--all", "--force")


def debian_mirror(apt: Path = Path("/etc/apt")) -> str:
    """The first mirror the apt sources name for Debian `bookworm` itself, else deb.debian.org."""
    entries: list[tuple[str, list[str]]] = []
    for path in sorted(apt.glob("sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = dict(re.findall(r"^(\w[\w-]*):\s*(.+)$", stanza, re.MULTILINE))
            if "deb" in fields.get("Types", "").split():
                entries += [
                    (uri, fields.get("Suites", "").split()) for uri in fields["URIs"].split()
                ]
    lists = [apt / "sources.list", *sorted(apt.glob("sources.list.d/*.list"))]
    for path in (p for p in lists if p.is_file()):
        for line in path.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", "", line).split()
            if len(words) >= 3 and words[0] == "deb":
                entries.append((words[1], [words[2]]))
    for uri, suites in entries:
        if SUITE in suites:
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def pull(buildah: Buildah, image: str) -> bool:
    """Whether `image` could be pulled (a registry is reachable and has it)."""
    try:
        buildah("pull", "--quiet", image, timeout=300)
    except BuildError:
        return False
    return True


def make_local_base(buildah: Buildah, tag: str, mirror: str) -> str:
    """A Debian bookworm base with python3 (3.11) and venv, made by debootstrap; its tag."""
    if shutil.which("debootstrap") is None:
        raise BuildError("no debootstrap to make a local base (apt-get install -y debootstrap)")
    with tempfile.TemporaryDirectory(prefix="turnstream-base-") as work:
        rootfs = Path(work) / "rootfs"
        packages = "python3,python3-venv,python-is-python3,ca-certificates"
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={packages}", SUITE, rootfs, mirror],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            log = (rootfs / "debootstrap" / "debootstrap.log").read_text(errors="replace")
            raise BuildError(f"debootstrap from {mirror} failed:\n{done.stderr}\n{log[-2000:]}")
        for trimmed in TRIMMED:
            shutil.rmtree(rootfs / trimmed, ignore_errors=True)
        if CA_BUNDLE.is_file():
            shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
        container = buildah("from", "scratch")
        try:
            buildah("add", container, str(rootfs), "/")
            buildah("config", "--env", "LANG=C.UTF-8", "--cmd", "python3", container)
            buildah("commit", "--quiet", container, tag)
        finally:
            buildah("rm", container)
    return tag


def build(
    buildah: Buildah,
    tag: str,
    *,
    base: str | None = None,
    context: Path = ROOT,
    build_args: dict[str, str] | None = None,
) -> str:
    """`buildah bud` of `context`'s Dockerfile, FROM `base` when given (PYTHON_IMAGE)."""
    values = {"PYTHON_IMAGE": base} if base else {}
    values |= build_args or {}
    arguments = [word for item in values.items() for word in ("--build-arg", "=".join(item))]
    buildah(
        "bud",
        "--quiet",
        "--isolation",
        "chroot",
        "--network",
        "host",
        *arguments,
        "--file",
        str(context / "Dockerfile"),
        "--tag",
        tag,
        str(context),
        timeout=900,
    )
    return tag


def build_turnstream(buildah: Buildah, tag: str, base: str = "auto", mirror: str = "") -> str:
    """Build the turnstream image as `tag`: on the official base (`official`), on a local one
    (`local`), or on the official one if it can be pulled, else a local one (`auto`). Returns
    the base image used."""
    if base == "official" or (base == "auto" and pull(buildah, OFFICIAL_BASE)):
        image = OFFICIAL_BASE
    else:
        image = make_local_base(buildah, LOCAL_BASE, mirror or debian_mirror())
    build(buildah, tag, base=image)
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default="turnstream:dev", help="the image's name (turnstream:dev)")
    parser.add_argument(
        "--base",
        choices=["auto", "official", "local"],
        default="auto",
        help="python:3.11-slim-bookworm, a debootstrapped Debian, or the first that works (auto)",
    )
    parser.add_argument("--mirror", default="", help="Debian mirror (default: apt's sources)")
    parser.add_argument("--root", type=Path, help="buildah storage folder (default: buildah's)")
    args = parser.parse_args(argv)
    if shutil.which("buildah") is None:
        print("build_image: no buildah (apt-get install -y buildah)", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("build_image: run as root (vfs storage and chroot isolation)", file=sys.stderr)
        return 2
    buildah = Buildah(args.root)
    try:
        base = build_turnstream(buildah, args.tag, args.base, args.mirror)
    except BuildError as e:
        print(f"build_image: {e}", file=sys.stderr)
        return 1
    print(f"{args.tag}: {buildah.image_size(args.tag) / 1e6:.0f} MB, FROM {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
