"""Containers of the image under test: `buildah run` as the pod would run them, and what they
changed on the root filesystem."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from tools.build_image import Buildah

UID = "10001:10001"  # the Dockerfile's USER and the manifests' runAsUser (tests/k8s check both)
WRITABLE = "tmp"  # the pods' only writable folder: an emptyDir on /tmp


def why_not() -> str | None:
    """Why this machine cannot build and run the image, or None when it can."""
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        return (
            f"no {' or '.join(missing)} on PATH (Debian: apt-get install -y buildah debootstrap; "
            ".ci/run installs them)"
        )
    if os.geteuid() != 0:
        return "not root: buildah's vfs storage and chroot isolation need root"
    return None


@contextlib.contextmanager
def container(buildah: Buildah, image: str) -> Iterator[tuple[str, Path]]:
    """A working container of `image`, mounted: (its name, its root filesystem on the host)."""
    name = buildah("from", "--name", f"turnstream-test-{uuid.uuid4().hex[:12]}", image)
    try:
        yield name, Path(buildah("mount", name))
    finally:
        buildah("umount", name)
        buildah("rm", name)


def run_command(buildah: Buildah, name: str, env: dict[str, str], *command: str) -> list[str]:
    """`buildah run` of `command` in the container `name`, as the image's user, on the host's
    network (the test's Redis and connector listen on its loopback)."""
    settings = [word for item in env.items() for word in ("--env", "=".join(item))]
    return buildah.command(
        "run", "--isolation", "chroot", "--network", "host", "--user", UID, *settings, name,
        "--", *command,
    )  # fmt: skip


async def start(
    buildah: Buildah, name: str, env: dict[str, str], *command: str
) -> asyncio.subprocess.Process:
    """A long-running command in the container, its stderr piped, in a session of its own so
    that `stop` ends it with everything buildah started for it."""
    return await asyncio.create_subprocess_exec(
        *run_command(buildah, name, env, *command),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM the process (buildah ends what runs in the container); its stderr."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
    try:
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
    except TimeoutError:
        os.killpg(process.pid, 9)
        _, stderr = await process.communicate()
    return stderr.decode(errors="replace")


async def run(buildah: Buildah, name: str, env: dict[str, str], *command: str) -> tuple[int, str]:
    """A command run to its end in the container: (exit status, stdout + stderr)."""
    done = await asyncio.to_thread(
        subprocess.run,
        run_command(buildah, name, env, *command),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def file_clock(folder: Path) -> float:
    """Now, by the file system's clock (coarser than time.time()): a new file's mtime."""
    marker = folder / f"clock-{uuid.uuid4().hex}"
    marker.touch()
    try:
        return marker.stat().st_mtime
    finally:
        marker.unlink()


def changed_since(rootfs: Path, since: float) -> set[str]:
    """Paths under `rootfs` (relative, outside /tmp) created, written or re-moded after `since`."""
    changed = set()
    for folder, subfolders, files in os.walk(rootfs):
        relative = Path(folder).relative_to(rootfs)
        if relative == Path("."):
            subfolders[:] = [s for s in subfolders if s != WRITABLE]
        for entry in [folder, *(os.path.join(folder, f) for f in files)]:
            status = os.lstat(entry)
            if max(status.st_mtime, status.st_ctime) > since:
                changed.add("/" + str(Path(entry).relative_to(rootfs)))
    return changed
