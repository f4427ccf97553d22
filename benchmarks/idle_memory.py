"""Memory of an idle gateway and an idle worker, started as an operator starts them:
`python -m benchmarks.idle_memory [--turns 2000] [--breakdown] [--json PATH]`.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks.echo_turns import HOST, REPO_ROOT, drive, started, wait_for_replies
from benchmarks.harness import BenchError, machine
from shared.protocol.keys import Keyspace
from shared.settings import Settings
from turnstream.embedded import EmbeddedRedis, free_port
from turnstream.loopback_idp import LoopbackIdentityProvider

BOT = "samples.echo:bot"
APP_ID = "idle-memory-bench-app"
TARGET_BYTES = 60_000_000
"""The issue's target, 60 MB (decimal: 57.2 MiB), for each process's resident set."""
MIB, MB = 1024 * 1024, 1_000_000
CASES = ("anonymous", "app-id", "deployment")
"""Default settings without and with an app id; then as k8s/base deploys them: an app id and
the ConfigMap's settings (JSON logs, the worker's /metrics server, ...)."""
CONFIGMAP = REPO_ROOT / "k8s" / "base" / "config" / "turnstream.env"
EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT = 0, 1, 2


@dataclass(frozen=True)
class Options:
    turns: int
    conversations: int
    settle: float
    command: Path
    breakdown: bool
    json_path: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    default_command = Path(sys.executable).parent / "turnstream"
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.idle_memory",
        description="Resident memory (VmRSS, PSS, USS) of `turnstream gateway` and `turnstream "
        "worker`, idle after start and idle again after a short load; anonymous, with an "
        "app id (token checks), and as k8s/base deploys them.",
    )
    add = parser.add_argument
    add("--turns", type=int, default=2000, help="echo turns of the load between the readings")
    add("--conversations", type=int, default=64, help="concurrent conversations of the load")
    add("--settle", type=float, default=5.0, help="idle seconds before each reading (5)")
    add(
        "--turnstream",
        type=Path,
        dest="command",
        default=default_command,
        help=f"the `turnstream` command to run ({default_command}); another virtualenv's, e.g. "
        "one with the image's dependencies only",
    )
    add(
        "--breakdown",
        action="store_true",
        help="also print each process's resident memory by mapping after the load",
    )
    add("--json", type=Path, dest="json_path", help="also write the results here")
    opts = Options(**vars(parser.parse_args(argv)))
    if min(opts.turns, opts.conversations) < 1 or opts.settle < 0:
        parser.error("--turns and --conversations must be >= 1, --settle >= 0")
    return opts


# -- reading memory -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    """One process's memory, in bytes, from /proc."""

    rss: int
    """VmRSS: every resident page, shared libraries included (what `top` and a kubelet's
    working set start from)."""
    pss: int
    """Proportional set size: shared pages divided among the processes mapping them."""
    uss: int
    """Unique set size: private pages only, what stopping the process would give back."""
    anonymous: int
    """Anonymous pages: the Python heap, malloc arenas, thread stacks."""
    threads: int


def read_memory(pid: int) -> Memory:
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) * 1024
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return Memory(
        rss=int(status["VmRSS"].split()[0]) * 1024,
        pss=fields["Pss"],
        uss=fields["Private_Clean"] + fields["Private_Dirty"],
        anonymous=fields["Anonymous"],
        threads=int(status["Threads"]),
    )


def mapping_breakdown(pid: int, top: int = 12) -> list[tuple[str, int, int]]:
    """(mapping, resident bytes, private bytes) from /proc/<pid>/smaps, largest first: the heap
    (`[heap]`: glibc's brk heap; `[anon]`: CPython's object arenas and malloc's large blocks)
    and each shared library, named by its file (site-packages left out)."""
    totals: dict[str, list[int]] = {}
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):  # a mapping's header line
                path = parts[5] if len(parts) > 5 else "[anon]"
                name = path.rpartition("site-packages/")[2] if path.startswith("/") else path
                totals.setdefault(name, [0, 0])
            elif parts[0] == "Rss:":
                totals[name][0] += int(parts[1]) * 1024
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                totals[name][1] += int(parts[1]) * 1024
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])
    return [(name, rss, private) for name, (rss, private) in ranked[:top]]


# -- one case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    case: str
    settings: dict[str, str]
    """What the case sets beyond REDIS_URL and the loopback connector."""
    idle: dict[str, Memory]
    """Per process, after start-up (ready, then `settle` seconds idle)."""
    after_load: dict[str, Memory]
    """Per process, `settle` seconds after the load's last reply."""
    turns: int
    non_2xx: int
    breakdown: dict[str, list[tuple[str, int, int]]]
    """Per process after the load, with --breakdown."""


def wait_until(ready: Callable[[], object], what: str, within: float = 60.0) -> None:
    """Poll `ready()` until true; BenchError naming `what` if it is not within the deadline."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, redis.RedisError):
            if ready():
                return
        time.sleep(0.1)
    raise BenchError(f"{what} not ready within {within:.0f} s")


def gateway_ready(port: int) -> bool:
    with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2) as answer:
        return bool(answer.status == 200)


def configmap() -> dict[str, str]:
    """The base ConfigMap's settings, the worker's metrics port made free on this machine."""
    lines = CONFIGMAP.read_text().splitlines()
    values = dict(ln.split("=", 1) for ln in lines if "=" in ln and not ln.startswith("#"))
    return values | {"TURNSTREAM_METRICS_PORT": str(free_port())}


def run_case(case: str, opts: Options, connector_url: str, logs: Path) -> CaseResult:
    """A fresh valkey, `turnstream gateway` and `turnstream worker` (the case's settings, the
    loopback connector allowed), read idle, loaded with echo turns, read idle again."""
    with contextlib.ExitStack() as stack:
        settings_env = configmap() if case == "deployment" else {}
        authorization = None
        if case != "anonymous":
            idp = stack.enter_context(LoopbackIdentityProvider(app_id=APP_ID))
            settings_env |= {
                "MicrosoftAppId": APP_ID,
                "MicrosoftAppPassword": idp.app_password,
                "TURNSTREAM_OPENID_METADATA_URL": idp.metadata_url,
                "TURNSTREAM_TOKEN_ENDPOINT": idp.token_url,
            }
            # One channel token for the whole load, as a channel reuses its token.
            authorization = f"Bearer {idp.channel_token(connector_url, lifetime=3600)}"
        env = os.environ | settings_env | {"TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true"}
        valkey = stack.enter_context(EmbeddedRedis(appendonly=False))
        env["REDIS_URL"] = valkey.url
        port = free_port()
        command = str(opts.command)
        gateway = stack.enter_context(
            started(
                [command, "gateway", "--port", str(port)], env, logs / f"gateway-{case}.log", port
            )
        )
        worker = stack.enter_context(
            started([command, "worker", "--bot", BOT], env, logs / f"worker-{case}.log", None)
        )
        pids = {"gateway": gateway, "worker": worker}
        client = stack.enter_context(redis.Redis.from_url(valkey.url))
        settings = Settings.from_env(env)
        heartbeat = Keyspace(settings.key_prefix, settings.shards).worker_heartbeat(
            socket.gethostname()  # the worker's id (worker.runtime.heartbeat)
        )
        wait_until(lambda: gateway_ready(port), "the gateway (/readyz)")
        wait_until(lambda: client.exists(heartbeat), "the worker (its heartbeat)")
        time.sleep(opts.settle)
        idle = {name: read_memory(pid) for name, pid in pids.items()}
        url = f"http://{HOST}:{port}/api/messages"
        tag = f"{case}-load"
        failures = asyncio.run(
            drive(
                url, tag, opts.turns, opts.conversations, connector_url, authorization=authorization
            )
        )
        if failures:
            raise BenchError(f"{case}: {failures} of {opts.turns} requests were not accepted")
        wait_for_replies(connector_url, tag, opts.turns, 300)
        time.sleep(opts.settle)
        after = {name: read_memory(pid) for name, pid in pids.items()}
        breakdown = {name: mapping_breakdown(pid) for name, pid in pids.items()}
    shown = {k: ("(set)" if "Password" in k else v) for k, v in settings_env.items()}
    return CaseResult(
        case, shown, idle, after, opts.turns, failures, breakdown if opts.breakdown else {}
    )


# -- output -------------------------------------------------------------------------------------


def verdict(memory: Memory) -> str:
    return "meets" if memory.rss <= TARGET_BYTES else "MISSES"


def print_case(result: CaseResult) -> None:
    given = ", ".join(f"{k}={v}" for k, v in result.settings.items()) or "defaults"
    print(f"{result.case}: {given}")
    for phase, readings in (
        ("idle", result.idle),
        (f"after {result.turns} turns", result.after_load),
    ):
        for name, m in readings.items():
            print(
                f"{result.case:<10} {name:<7} {phase:<17} RSS {m.rss / MB:5.1f} MB "
                f"({m.rss / MIB:5.1f} MiB)  PSS {m.pss / MB:5.1f} MB ({m.pss / MIB:5.1f} MiB)  "
                f"USS {m.uss / MB:5.1f} MB ({m.uss / MIB:5.1f} MiB)  threads {m.threads}  "
                f"{verdict(m)} the target (RSS <= {TARGET_BYTES / MB:.0f} MB)"
            )
    for name, mappings in result.breakdown.items():
        print(f"  {result.case} {name} after the load, by mapping (resident / private MB):")
        for mapping, rss, private in mappings:
            print(f"    {rss / MB:5.1f} / {private / MB:5.1f}  {mapping}")


def environment(command: Path) -> dict[str, Any]:
    """What the measured interpreter has installed that changes its imports: redis-py imports
    the OpenTelemetry SDK (and psutil) when it is installed, which the image does not do."""
    python = command.parent / "python"
    probe = "import importlib.util as u; print(bool(u.find_spec('opentelemetry.sdk')))"
    answer = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    return {"command": str(command), "opentelemetry_sdk_installed": answer.stdout.strip() == "True"}


def run(opts: Options) -> dict[str, Any]:
    results: dict[str, Any] = {"options": asdict(opts) | {"command": str(opts.command)}}
    results["machine"] = machine()
    results["environment"] = environment(opts.command)
    print(f"machine: {results['machine']}")
    env_note = results["environment"]
    print(
        f"measured: {env_note['command']} (OpenTelemetry SDK installed: "
        f"{env_note['opentelemetry_sdk_installed']}; redis-py imports it when it is, the image "
        "does not install it)"
    )
    sink_port = free_port()
    sink = [sys.executable, "-m", "benchmarks.reply_sink", str(sink_port)]
    cases = []
    with (
        tempfile.TemporaryDirectory(prefix="idle-memory-") as tmp,
        started(sink, dict(os.environ), Path(tmp) / "connector.log", sink_port),
    ):
        connector_url = f"http://{HOST}:{sink_port}"
        for case in CASES:
            cases.append(run_case(case, opts, connector_url, Path(tmp)))
            print_case(cases[-1])
    results["cases"] = [asdict(c) for c in cases]
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average at the end: {results['load_average_at_end']}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux"):
        print("needs Linux (/proc)", file=sys.stderr)
        return EXIT_ENVIRONMENT
    if not os.access(opts.command, os.X_OK):
        print(f"{opts.command} is not an executable `turnstream` command", file=sys.stderr)
        return EXIT_ENVIRONMENT
    try:
        results = run(opts)
    except BenchError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return EXIT_FAILED
    if opts.json_path:
        opts.json_path.write_text(json.dumps(results, indent=2, default=str))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
