"""End-to-end echo turns: turnstream vs botbuilder-python 4.17, workers 1 vs 2, Redis commands
per turn and RSS: `python -m benchmarks.echo_turns [--turns 3000] [--json PATH]`.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis

from benchmarks.harness import (
    BenchError,
    cpu_seconds,
    cpu_ticks,
    machine,
    process_cpu_seconds,
    wait_for_quiet,
)
from benchmarks.reply_sink import CONNECTIONS_PATH, STATS_PATH
from benchmarks.stateful_turns import _RECORDS as RECORDS
from benchmarks.stateful_turns import monitor_counts, start_monitor
from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from turnstream.embedded import EmbeddedRedis, free_port

HOST, CHANNEL, SHARDS = "127.0.0.1", "msteams", 16
BOT = "samples.echo:bot"
PEER_SDK = "botbuilder-integration-aiohttp==4.17.1"
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_echo.py"
REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_RATIO = 5.0  # turnstream CPU per turn at most 1/5 of BotFrameworkAdapter's
TARGET_SCALING = 1.7  # 2 workers drain a prefilled stream at least 1.7x as fast as 1
SCALING_BOTS = (BOT, "samples.counter:bot")
"""1 vs 2 workers: the echo bot, and a bot whose turn does more than echo (it reads and writes
its conversation state in Redis, then replies)."""
PREFILL_CONVERSATIONS = 1000
"""Conversations the prefilled turns are spread over. With 200, the 16 shards held 270-450
turns each of 6,000 (crc32 of a few ids per shard): one worker's share of the shards could
hold ~10 % more than the other's, and the drain lasts as long as the larger share."""
PREFILL_BATCH = 2000
SHARED_MACHINE = 0.10
"""A drain during which processes other than ours used more than this share of the machine
is labelled: its turns/s is not this software's, and neither is the ratio."""


HARNESS_COMMANDS = {"monitor", "info", "ping", "echo"}
EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT = 0, 1, 2


@dataclass(frozen=True)
class Options:
    turns: int
    conversations: int
    warmup: int
    prefill: int
    peer_venv: Path
    skip_peer: bool
    aiohttp_baseline: bool
    json_path: Path | None
    # Defaults, so that a benchmark importing this one can build Options as before.
    prefill_conversations: int = PREFILL_CONVERSATIONS
    scaling_only: bool = False
    scaling_repeat: int = 1


def parse_options(argv: Sequence[str]) -> Options:
    default_venv = Path.home() / ".cache" / "turnstream-bench" / "botbuilder-4.17"
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.echo_turns",
        description="End-to-end echo turns/s and CPU per turn (all processes) of turnstream vs "
        "botbuilder-python 4.17 (BotFrameworkAdapter, CloudAdapter); Redis commands per turn; "
        "1 vs 2 workers on a prefilled stream; RSS.",
    )
    add = parser.add_argument
    add("--turns", type=int, default=3000, help="measured echo turns per case (3000)")
    add("--conversations", type=int, default=64, help="concurrent conversations (64)")
    add("--warmup", type=int, default=300, help="uncounted turns before each case (300)")
    add("--prefill", type=int, default=30000, help="queued turns for 1 vs 2 workers (30000)")
    add(
        "--prefill-conversations",
        type=int,
        default=PREFILL_CONVERSATIONS,
        help=f"conversations the queued turns are spread over ({PREFILL_CONVERSATIONS})",
    )
    add(
        "--scaling-only",
        action="store_true",
        help="only 1 vs 2 workers (no end-to-end cases, no MONITOR pass, no SDK)",
    )
    add("--scaling-repeat", type=int, default=1, help="1 vs 2 worker pairs per bot (1)")
    add("--peer-venv", type=Path, default=default_venv, help=f"botbuilder venv ({default_venv})")
    add("--skip-peer", action="store_true", help="turnstream only (no botbuilder install)")
    add(
        "--aiohttp-baseline",
        action="store_true",
        help="also run turnstream with the connector client over aiohttp (the former transport)",
    )
    add("--json", type=Path, dest="json_path", help="also write the results here")
    opts = Options(**vars(parser.parse_args(argv)))
    numbers = (opts.turns, opts.conversations, opts.prefill, opts.prefill_conversations)
    if min(*numbers, opts.scaling_repeat) < 1 or opts.warmup < 0:
        parser.error("numbers must be >= 1")
    return opts


# -- processes ----------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """Resident set size from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str], log: Path, port: int | None) -> Iterator[int]:
    """A subprocess (stopped on exit); waits until `port` answers TCP when given."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        if port is not None:
            wait_for_port(port, process, log)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import socket

    for _ in range(300):
        if process.poll() is not None:
            raise BenchError(f"{process.args!r} exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
            return
        time.sleep(0.1)
    raise BenchError(f"{process.args!r} did not listen on {port}")


def turnstream_env(redis_url: str, prefix: str) -> dict[str, str]:
    return os.environ | {
        "REDIS_URL": redis_url,
        "TURNSTREAM_KEY_PREFIX": prefix,
        "TURNSTREAM_SHARDS": str(SHARDS),
        "TURNSTREAM_LOG_LEVEL": "WARNING",
        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",  # the connector is on loopback
    }


def ensure_peer_venv(venv: Path) -> Path:
    """The botbuilder 4.17 virtualenv (created and installed from PyPI on first use)."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import botbuilder.integration.aiohttp"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing {PEER_SDK} into {venv} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", PEER_SDK], check=True)
    return python


# -- load ---------------------------------------------------------------------------------------


def message(tag: str, conversation: int, n: int, service_url: str) -> dict[str, Any]:
    return {
        "type": "message", "id": f"{tag}-{conversation}-{n}", "text": f"message {n}",
        "channelId": CHANNEL, "serviceUrl": service_url, "locale": "en-US",
        "conversation": {"id": f"{tag}-conv-{conversation}"},
        "from": {"id": f"{tag}-user-{conversation}", "name": "User"},
        "recipient": {"id": "bot", "name": "Bot"},
    }  # fmt: skip


ActivityBuilder = Callable[[str, int, int, str], dict[str, Any]]
"""(tag, conversation, n, serviceUrl) -> message n of that conversation, as `message` does."""


@dataclass(frozen=True)
class Load:
    """What a case posts: `turns` messages over `conversations`, made by `build`; the case is
    done when the connector has `replies` replies for them."""

    turns: int
    conversations: int
    replies: int
    build: ActivityBuilder = message


def echo_loads(opts: Options) -> tuple[Load, Load | None]:
    """The measured echo turns and the warm-up before them (none if --warmup 0)."""
    warmup = Load(opts.warmup, opts.conversations, opts.warmup) if opts.warmup else None
    return Load(opts.turns, opts.conversations, opts.turns), warmup


def replies(connector_url: str, prefix: str) -> tuple[int, float, float]:
    """(replies, first arrival, last arrival) for conversations starting with prefix."""
    url = f"{connector_url}{STATS_PATH.decode()}?prefix={prefix}"
    with urllib.request.urlopen(url, timeout=10) as r:
        count, first, last = orjson.loads(r.read())
    return int(count), float(first), float(last)


async def drive(
    url: str,
    tag: str,
    turns: int,
    conversations: int,
    service_url: str,
    build: ActivityBuilder = message,
    authorization: str | None = None,
) -> int:
    """Post `turns` messages over `conversations`, each conversation's in order, one request
    in flight per conversation (the SDK answers after the turn; turnstream at once), with
    `authorization` as the Authorization header when given. Returns the number of non-2xx
    answers."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    failures = 0
    per = [
        turns // conversations + (1 if i < turns % conversations else 0)
        for i in range(conversations)
    ]
    limits = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=limits) as http:

        async def talk(conversation: int) -> None:
            nonlocal failures
            for n in range(per[conversation]):
                body = orjson.dumps(build(tag, conversation, n, service_url))
                async with http.post(url, data=body, headers=headers) as answer:
                    await answer.read()
                    failures += answer.status >= 300

        await asyncio.gather(*(talk(i) for i in range(conversations)))
    return failures


def connections_accepted(connector_url: str) -> int:
    """Connections the reply sink accepted so far."""
    url = f"{connector_url}{CONNECTIONS_PATH.decode()}"
    with urllib.request.urlopen(url, timeout=10) as r:
        (count,) = orjson.loads(r.read())
    return int(count)


def wait_for_replies(connector_url: str, prefix: str, expected: int, within: float) -> float:
    """Unix time of the last reply once `expected` arrived; BenchError if not within."""
    deadline = time.time() + within
    while time.time() < deadline:
        count, _, last = replies(connector_url, prefix)
        if count >= expected:
            return last
        time.sleep(0.05)
    count, _, _ = replies(connector_url, prefix)
    raise BenchError(f"{count} of {expected} replies for {prefix} within {within:.0f} s")


# -- cases --------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: str
    turns: int
    seconds: float
    turns_per_second: float
    cpu_us_per_turn: float
    cpu_us_per_turn_by_process: dict[str, float]
    rss_mib: dict[str, float]
    non_2xx: int


def post_load(
    url: str, tag: str, load: Load, connector_url: str, within: float
) -> tuple[int, float]:
    """Post `load` under conversation ids starting with `tag` and wait for its replies:
    (non-2xx answers, unix time of the last reply)."""
    failures = asyncio.run(
        drive(url, tag, load.turns, load.conversations, connector_url, load.build)
    )
    return failures, wait_for_replies(connector_url, tag, load.replies, within)


def measure(
    case: str,
    url: str,
    pids: dict[str, int],
    connector_url: str,
    load: Load,
    warmup: Load | None,
) -> CaseResult:
    """Warm up, then run the measured turns; CPU summed over `pids`."""
    if warmup:
        post_load(url, f"w{uuid.uuid4().hex[:8]}", warmup, connector_url, 120)
    before = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
    start = time.time()
    failures, last = post_load(url, f"m{uuid.uuid4().hex[:8]}", load, connector_url, 300)
    after = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
    seconds = last - start
    by_process = {name: 1e6 * (after[name] - before[name]) / load.turns for name in pids}
    return CaseResult(
        case=case,
        turns=load.turns,
        seconds=seconds,
        turns_per_second=load.turns / seconds,
        cpu_us_per_turn=sum(by_process.values()),
        cpu_us_per_turn_by_process=by_process,
        rss_mib={name: rss_mib(pid) for name, pid in pids.items() if name != "valkey"},
        non_2xx=failures,
    )


@contextlib.contextmanager
def turnstream_system(
    server: EmbeddedRedis,
    logs: Path,
    case: str,
    bot: str = BOT,
    worker_module: str = "worker",
    settings: dict[str, str] | None = None,
) -> Iterator[tuple[str, dict[str, int]]]:
    """Gateway + 1 worker of `bot` on a fresh key prefix, `settings` added to their environment:
    (the gateway's /api/messages URL, pids of gateway, worker and valkey)."""
    env = turnstream_env(server.url, f"bench-{uuid.uuid4().hex[:8]}") | (settings or {})
    port = free_port()
    gateway = [sys.executable, "-m", "gateway", "--port", str(port)]
    worker = [sys.executable, "-m", worker_module, "--bot", bot]
    with (
        started(gateway, env, logs / f"gateway-{case}.log", port) as gateway_pid,
        started(worker, env, logs / f"worker-{case}.log", None) as worker_pid,
    ):
        assert server.pid is not None
        pids = {"gateway": gateway_pid, "worker": worker_pid, "valkey": server.pid}
        yield f"http://{HOST}:{port}/api/messages", pids


def turnstream_case(
    opts: Options,
    server: EmbeddedRedis,
    connector_url: str,
    logs: Path,
    worker_module: str = "worker",
    case: str = "turnstream",
) -> tuple[CaseResult, CommandCounts]:
    """Gateway + 1 worker + valkey; then an accounting pass under MONITOR (commands/turn)."""
    with turnstream_system(server, logs, case, worker_module=worker_module) as (url, pids):
        result = measure(case, url, pids, connector_url, *echo_loads(opts))
        commands = count_commands(server, url, opts, connector_url)
    return result, commands


IDLE_SECONDS = 3.0
"""How long the idle system is watched for its background commands."""


@dataclass(frozen=True)
class CommandCounts:
    """Redis commands the gateway and the worker sent (not those their scripts ran)."""

    per_turn: dict[str, float]
    """Per turn of the accounting pass, the background sent meanwhile taken out."""
    background_per_s: dict[str, float]
    """Per second with no traffic: heartbeats, lease and takeover scans, blocking stream reads
    that time out. They depend on time, not turns: at 100 turns/s they would weigh 10x more
    per turn than at 1,000 turns/s, so they are not counted as a cost of a turn."""
    measured_per_turn: dict[str, float]
    """Everything sent during the pass, per turn, the background included."""
    turns: int
    pass_seconds: float


def count_commands(
    server: EmbeddedRedis, url: str, opts: Options, connector_url: str
) -> CommandCounts:
    """Commands the gateway and worker send per turn, from MONITOR (a separate, slower pass:
    MONITOR shows which commands a client sent and which a script ran). The background the
    processes send when idle is watched first, then subtracted at its rate from the pass."""
    monitor = start_monitor(server.port)
    time.sleep(IDLE_SECONDS)
    idle = _sent(monitor_counts(monitor, server.port))
    background = {name: n / IDLE_SECONDS for name, n in idle.items()}
    turns = min(opts.turns, 1000)
    monitor = start_monitor(server.port)
    started_at = time.monotonic()
    tag = f"a{uuid.uuid4().hex[:8]}"
    asyncio.run(drive(url, tag, turns, opts.conversations, connector_url))
    wait_for_replies(connector_url, tag, turns, 120)
    time.sleep(1.0)  # the last commits and acks
    counts = _sent(monitor_counts(monitor, server.port))
    seconds = time.monotonic() - started_at
    per_turn = {
        name: max(0.0, n - background.get(name, 0.0) * seconds) / turns
        for name, n in counts.items()
    }
    return CommandCounts(
        per_turn=_by_weight(per_turn),
        background_per_s=_by_weight(background),
        measured_per_turn=_by_weight({name: n / turns for name, n in counts.items()}),
        turns=turns,
        pass_seconds=seconds,
    )


def _sent(counts: Counter[tuple[str, bool]]) -> dict[str, float]:
    """Commands a client sent (not run by a script), the harness's own left out."""
    return {
        name: float(n)
        for (name, in_script), n in counts.items()
        if not in_script and name not in HARNESS_COMMANDS and name != RECORDS
    }


def _by_weight(counts: dict[str, float]) -> dict[str, float]:
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def print_commands(c: CommandCounts) -> None:
    def listed(counts: dict[str, float], digits: int = 2) -> str:
        return ", ".join(f"{name} {n:.{digits}f}" for name, n in counts.items() if n >= 0.005)

    print(
        f"Redis commands sent per turn (gateway + worker, {c.turns} turns in "
        f"{c.pass_seconds:.1f} s), background taken out: {sum(c.per_turn.values()):.2f}  "
        f"{listed(c.per_turn)}\n"
        f"  background when idle, per second: {sum(c.background_per_s.values()):.1f}  "
        f"{listed(c.background_per_s, 1)}\n"
        f"  all sent during the pass, per turn: {sum(c.measured_per_turn.values()):.2f}"
    )


PEER_ADAPTERS = {"bfa": "BotFrameworkAdapter", "cloud": "CloudAdapter"}


@contextlib.contextmanager
def peer_system(
    mode: str, python: Path, logs: Path, script: Path = PEER_SCRIPT
) -> Iterator[tuple[str, dict[str, int]]]:
    """The botbuilder bot `script` with adapter `mode` (bfa, cloud), run by the peer venv's
    `python`: (its /api/messages URL, {"bot": its pid})."""
    port = free_port()
    command = [str(python), str(script), mode, str(port)]
    env = {k: v for k, v in os.environ.items() if k not in ("MicrosoftAppId", "PYTHONPATH")}
    with started(command, env, logs / f"peer-{script.stem}-{mode}.log", port) as pid:
        yield f"http://{HOST}:{port}/api/messages", {"bot": pid}


def peer_case(mode: str, python: Path, opts: Options, connector_url: str, logs: Path) -> CaseResult:
    with peer_system(mode, python, logs) as (url, pids):
        return measure(PEER_ADAPTERS[mode], url, pids, connector_url, *echo_loads(opts))


# -- 1 vs 2 workers -----------------------------------------------------------------------------


def prefill(
    server: EmbeddedRedis,
    prefix: str,
    turns: int,
    service_url: str,
    conversations: int = PREFILL_CONVERSATIONS,
) -> None:
    """Queue `turns` echo messages over `conversations` with the gateway's own script,
    message n of every conversation before message n + 1 of any."""
    keys = Keyspace(prefix, SHARDS)
    client = redis.Redis.from_url(server.url)
    for first in range(0, turns, PREFILL_BATCH):
        pipe = client.pipeline(transaction=False)
        for n in range(first, min(turns, first + PREFILL_BATCH)):
            body = message(prefix, n % conversations, n // conversations, service_url)
            conversation = conversation_key(CHANNEL, body["conversation"]["id"])
            envelope = Envelope(orjson.dumps(body), conversation, time.time())
            arguments = enqueue_arguments(keys, conversation, envelope.encode())
            pipe.eval(ENQUEUE_SCRIPT, ENQUEUE_KEYS, *arguments)
        pipe.execute()
    client.close()


@dataclass
class WorkerRun:
    """One burst worker of a drain."""

    turns: int
    """Its own count (`turns done` in its log)."""
    share: str
    """The shards it read first once it knew the other workers ("8 of 16")."""
    exited_after: float
    """Seconds from the start of the workers to its exit (its last turn, the drain, the stop)."""
    cpu_seconds: float
    system_seconds: float
    """Of `cpu_seconds`, in the kernel (socket I/O, wake-ups)."""
    voluntary_switches: int
    involuntary_switches: int
    """Context switches: voluntary ones are waits (epoll with nothing ready), involuntary ones
    preemptions by another process wanting its CPU."""


@dataclass
class Drain:
    bot: str
    workers: int
    turns: int
    conversations: int
    seconds: float
    """From the first to the last reply (interpreter start-up, the same for both, left out)."""
    turns_per_second: float
    cpu_seconds: dict[str, float]
    """Over the workers' whole lives: the workers, valkey and the connector."""
    machine_busy: float
    """All CPU time of the machine / (wall time x CPUs): near 1 means the machine is full."""
    others_share: float
    """CPU time of processes other than ours / (wall time x CPUs)."""
    per_worker: list[WorkerRun]
    redis_calls: dict[str, int]
    """INFO commandstats calls during the drain (commands scripts ran included), and `reads`:
    the server's socket reads."""
    connections: int
    """HTTP connections the workers opened to the connector."""


def drain(
    workers: int,
    opts: Options,
    server: EmbeddedRedis,
    connector: tuple[int, str],
    logs: Path,
    bot: str = BOT,
) -> Drain:
    """`workers` burst-mode workers of `bot` draining a prefilled stream."""
    connector_pid, connector_url = connector
    assert server.pid is not None
    prefix = f"s{uuid.uuid4().hex[:8]}"
    prefill(server, prefix, opts.prefill, connector_url, opts.prefill_conversations)
    env = turnstream_env(server.url, prefix) | {"TURNSTREAM_LOG_LEVEL": "INFO"}  # no per-turn log
    command = [sys.executable, "-m", "worker", "--bot", bot, "--burst"]
    stats = redis.Redis.from_url(server.url)
    wait_for_quiet(set(range(os.cpu_count() or 1)), limit=15)
    others = {"valkey": server.pid, "connector": connector_pid}
    before = {name: process_cpu_seconds(pid) for name, pid in others.items()}
    calls_before = _command_calls(stats)
    connections_before = connections_accepted(connector_url)
    ticks_before = cpu_ticks()
    start = time.time()
    processes, worker_logs = [], []
    for n in range(workers):
        worker_logs.append(logs / f"burst-{workers}-{n}-{prefix}.log")
        with open(worker_logs[-1], "ab") as out:
            processes.append(
                subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
            )
    exits = _wait_all(processes, 600)
    wall = time.time() - start
    # Each look at the sink is a connection of its own: 1 is this one.
    connections = connections_accepted(connector_url) - connections_before - 1
    ticks_after = cpu_ticks()
    calls = _command_calls(stats)
    stats.close()
    cpu = {name: process_cpu_seconds(pid) - before[name] for name, pid in others.items()}
    per_worker = []
    for log, (returncode, exited, usage) in zip(worker_logs, exits, strict=True):
        if returncode != 0:
            raise BenchError(f"a burst worker exited with {returncode}: {log}")
        per_worker.append(_worker_run(log, workers, exited - start, usage))
    cpu["workers"] = sum(w.cpu_seconds for w in per_worker)
    wait_for_replies(connector_url, prefix, opts.prefill, 60)
    _, first, last = replies(connector_url, prefix)
    busy = sum(cpu_seconds(ticks_before, ticks_after, n)[0] for n in ticks_after)
    capacity = wall * len(ticks_after)
    return Drain(
        bot=bot,
        workers=workers,
        turns=opts.prefill,
        conversations=opts.prefill_conversations,
        seconds=last - first,
        turns_per_second=opts.prefill / (last - first),
        cpu_seconds=cpu,
        machine_busy=busy / capacity,
        others_share=max(0.0, busy - sum(cpu.values())) / capacity,
        per_worker=per_worker,
        redis_calls={k: calls.get(k, 0) - calls_before.get(k, 0) for k in calls},
        connections=connections,
    )


def _wait_all(
    processes: list[subprocess.Popen[bytes]], within: float
) -> list[tuple[int, float, resource.struct_rusage]]:
    """(exit status, time of exit, resource usage) of each process, in order, as each exits."""
    deadline = time.time() + within
    done: dict[int, tuple[int, float, resource.struct_rusage]] = {}
    while len(done) < len(processes):
        if time.time() > deadline:
            for process in processes:
                process.kill()
            raise BenchError(f"burst workers still running after {within:.0f} s")
        for process in processes:
            if process.pid in done:
                continue
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                done[pid] = (process.returncode, time.time(), usage)
        time.sleep(0.01)
    return [done[process.pid] for process in processes]


def _worker_run(
    log: Path, workers: int, exited_after: float, usage: resource.struct_rusage
) -> WorkerRun:
    text = log.read_text(errors="replace")
    turns = re.findall(r"(\d+) turns done", text)
    # Its share while all the drain's workers were live (the first to stop leaves its share
    # to the other, which logs that too).
    shares = re.findall(r"reading (\d+ of \d+) shard streams first \((\d+) live workers", text)
    share = [s for s, live in shares if int(live) == workers]
    return WorkerRun(
        turns=int(turns[-1]) if turns else -1,
        share=share[-1] if share else "all",
        exited_after=exited_after,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        system_seconds=usage.ru_stime,
        voluntary_switches=usage.ru_nvcsw,
        involuntary_switches=usage.ru_nivcsw,
    )


def _command_calls(client: redis.Redis) -> dict[str, int]:
    """INFO commandstats calls per command, and the server's socket reads (`reads`: the
    fewer per turn, the larger the batches clients send)."""
    info = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in info.items()}
    return calls | {"reads": int(client.info("stats")["total_reads_processed"])}


def startup_cpu_seconds(server: EmbeddedRedis, bot: str) -> float:
    """CPU a burst worker of `bot` spends with nothing to do: start-up (imports, connections)
    and stop, left out of the per-turn figures of the drains."""
    env = turnstream_env(server.url, f"u{uuid.uuid4().hex[:8]}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "worker", "--bot", bot, "--burst"]
    subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, check=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


@dataclass(frozen=True)
class Scaling:
    """2 workers vs 1 on the same prefilled stream, and what the machine allows."""

    ratio: float
    """turns/s with 2 workers / turns/s with 1."""
    ceiling: float
    """2 w / (w + v + c) from the 1-worker run's CPU per turn (w the worker's, start-up left
    out; v valkey's; c the connector's): what 2 workers reach on 2 CPUs they share with valkey
    and the connector if each turn costs each process what it cost with one worker. More CPUs
    than 2: twice the 1-worker rate, capped the same way by the machine's CPUs."""
    share_of_ceiling: float


def per_turn_us(d: Drain, startup: float) -> dict[str, float]:
    """CPU per turn of each process, µs, the workers' start-up left out."""
    cpu = d.cpu_seconds | {"workers": d.cpu_seconds["workers"] - d.workers * startup}
    return {k: 1e6 * max(0.0, v) / d.turns for k, v in cpu.items()}


def scaling(one: Drain, two: Drain, startup: float, cpus: int) -> Scaling:
    ratio = two.turns_per_second / one.turns_per_second
    cost = per_turn_us(one, startup)
    w, whole = cost["workers"], sum(cost.values())
    # Two workers need 2 w per two turns; the machine gives `cpus` seconds per second.
    ceiling = min(2.0, cpus * w / whole) if whole else 0.0
    return Scaling(ratio, ceiling, ratio / ceiling if ceiling else 0.0)


def print_drain(d: Drain, startup: float) -> None:
    cost = ", ".join(f"{k} {v:.0f}" for k, v in per_turn_us(d, startup).items())
    shared = "  SHARED MACHINE (not a capacity)" if d.others_share > SHARED_MACHINE else ""
    print(
        f"prefilled {d.turns} turns of {d.bot} over {d.conversations} conversations, "
        f"{d.workers} worker(s): {d.turns_per_second:.0f} turns/s ({d.seconds:.2f} s from the "
        f"first to the last reply); CPU per turn (us, start-up left out) {cost}; machine "
        f"{d.machine_busy:.0%} busy, others {d.others_share:.0%}{shared}"
    )
    for n, w in enumerate(d.per_worker, 1):
        turns = max(w.turns, 1)
        per_turn = 1e6 * (w.cpu_seconds - startup) / turns
        print(
            f"  worker {n}: {w.turns} turns ({w.turns / d.turns:.0%}), shards read first: "
            f"{w.share}, exited {w.exited_after:.2f} s after the start, {per_turn:.0f} us "
            f"CPU/turn ({w.system_seconds / w.cpu_seconds:.0%} system); per 1000 turns "
            f"{1000 * w.voluntary_switches / turns:.0f} waits, "
            f"{1000 * w.involuntary_switches / turns:.0f} preemptions"
        )
    calls = d.redis_calls
    print(
        "  Redis per turn: valkey socket reads {:.3f}, XREADGROUP {:.3f}, order-gate polls "
        "(GET) {:.3f}, claims and "
        "lease renewals (XAUTOCLAIM, XCLAIM) {:.3f}".format(
            calls.get("reads", 0) / d.turns,
            calls.get("xreadgroup", 0) / d.turns,
            calls.get("get", 0) / d.turns,
            (calls.get("xautoclaim", 0) + calls.get("xclaim", 0)) / d.turns,
        )
        + f"; {d.connections} connections to the connector, "
        f"{d.turns / max(d.connections, 1):.0f} replies each"
    )


def print_scaling(
    one: Drain, two: Drain, startup: float, opts: Options | None = None
) -> dict[str, Any]:
    """Print and return 2 vs 1 workers, with each run's CPU per turn (start-up left out) and
    the ceiling the 1-worker run's costs set on this machine."""
    cpus = os.cpu_count() or 1
    for d in (one, two):
        print_drain(d, startup)
    result = scaling(one, two, startup, cpus)
    cost = per_turn_us(one, startup)
    verdict = "meets" if result.ratio >= TARGET_SCALING else "MISSES"
    trusted = max(one.others_share, two.others_share) <= SHARED_MACHINE
    print(
        f"{one.bot}: 2 workers / 1 worker = {result.ratio:.2f}x ({verdict} the target >= "
        f"{TARGET_SCALING:g}x{'' if trusted else '; SHARED MACHINE: not to be trusted'}); "
        f"ceiling on {cpus} CPUs from the 1-worker run's CPU per turn: 2 x {cost['workers']:.0f} "
        f"/ ({cost['workers']:.0f} + {cost['valkey']:.0f} + {cost['connector']:.0f}) = "
        f"{result.ceiling:.2f}x; achieved {result.share_of_ceiling:.0%} of it"
    )
    inflation = {
        name: two_cost / cost[name] if cost[name] else 0.0
        for name, two_cost in per_turn_us(two, startup).items()
    }
    print(
        "  CPU per turn, 2 workers / 1 worker (1.00: each turn costs what it did with one; the "
        "ceiling assumes so): "
        + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in inflation.items())
    )
    return {
        "one": asdict(one),
        "two": asdict(two),
        "cpu_per_turn_two_over_one": inflation,
        "worker_startup_cpu_seconds": startup,
        "scaling": result.ratio,
        "ceiling": result.ceiling,
        "share_of_ceiling": result.share_of_ceiling,
        "trusted": trusted,
    }


def run_scaling(
    opts: Options, server: EmbeddedRedis, connector: tuple[int, str], logs: Path
) -> dict[str, Any]:
    """1 vs 2 workers for each bot of SCALING_BOTS, `opts.scaling_repeat` pairs each."""
    results: dict[str, Any] = {}
    for bot in SCALING_BOTS:
        startup = startup_cpu_seconds(server, bot)
        pairs = []
        for _ in range(opts.scaling_repeat):
            one = drain(1, opts, server, connector, logs, bot)
            two = drain(2, opts, server, connector, logs, bot)
            pairs.append(print_scaling(one, two, startup, opts))
        if len(pairs) > 1:
            ratios = sorted(p["scaling"] for p in pairs)
            ceilings = sorted(p["ceiling"] for p in pairs)
            print(
                f"{bot}: 2 workers / 1 over {len(pairs)} pairs: median "
                f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}), "
                f"ceiling median {statistics.median(ceilings):.2f}x"
            )
        results[bot] = pairs
    return results


# -- output -------------------------------------------------------------------------------------


def print_case(result: CaseResult) -> None:
    parts = ", ".join(f"{k} {v:.0f}" for k, v in result.cpu_us_per_turn_by_process.items())
    rss = ", ".join(f"{k} {v:.0f} MiB" for k, v in result.rss_mib.items())
    print(
        f"{result.case:<20} {result.turns_per_second:8.0f} turns/s  "
        f"{result.cpu_us_per_turn:8.0f} us CPU/turn ({parts})  RSS {rss}"
        + (f"  non-2xx {result.non_2xx}" if result.non_2xx else "")
    )


def end_to_end(
    opts: Options, server: EmbeddedRedis, connector_url: str, logs: Path
) -> dict[str, Any]:
    """turnstream (and the SDK's adapters) end to end, and the MONITOR pass."""
    results: dict[str, Any] = {}
    cases = []
    if opts.aiohttp_baseline:  # the former connector transport, first, on the same machine
        baseline, _ = turnstream_case(
            opts, server, connector_url, logs, "benchmarks.aiohttp_worker", "turnstream-aiohttp"
        )
        cases.append(baseline)
        print_case(baseline)
    ours, commands = turnstream_case(opts, server, connector_url, logs)
    cases.append(ours)
    print_case(ours)
    if not opts.skip_peer:
        python = ensure_peer_venv(opts.peer_venv)
        for mode in ("bfa", "cloud"):
            cases.append(peer_case(mode, python, opts, connector_url, logs))
            print_case(cases[-1])
    results["cases"] = [asdict(c) for c in cases]
    results["redis_commands"] = asdict(commands)
    print_commands(commands)
    by_case = {c.case: c for c in cases}
    if "BotFrameworkAdapter" in by_case:
        ratio = by_case["BotFrameworkAdapter"].cpu_us_per_turn / ours.cpu_us_per_turn
        cloud = by_case["CloudAdapter"].cpu_us_per_turn / ours.cpu_us_per_turn
        results["cpu_ratio_vs_bfa"], results["cpu_ratio_vs_cloud"] = ratio, cloud
        verdict = "meets" if ratio >= TARGET_CPU_RATIO else "MISSES"
        print(
            f"CPU per turn: BotFrameworkAdapter / turnstream = {ratio:.2f}x "
            f"({verdict} the target >= {TARGET_CPU_RATIO:g}x); CloudAdapter / turnstream "
            f"= {cloud:.2f}x"
        )
    return results


def run(opts: Options) -> dict[str, Any]:
    results: dict[str, Any] = {"options": asdict(opts) | {"peer_venv": str(opts.peer_venv)}}
    results["machine"] = machine()
    print(f"machine: {results['machine']}")
    sink_port = free_port()
    sink = [sys.executable, "-m", "benchmarks.reply_sink", str(sink_port)]
    with (
        tempfile.TemporaryDirectory(prefix="echo-turns-") as tmp,
        EmbeddedRedis(appendonly=False) as server,
        started(sink, dict(os.environ), Path(tmp) / "connector.log", sink_port) as sink_pid,
    ):
        logs = Path(tmp)
        connector_url = f"http://{HOST}:{sink_port}"
        if not opts.scaling_only:
            results |= end_to_end(opts, server, connector_url, logs)
        results["workers"] = run_scaling(opts, server, (sink_pid, connector_url), logs)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(sys.argv[1:] if argv is None else argv)
    if not sys.platform.startswith("linux"):
        print("needs Linux (/proc)", file=sys.stderr)
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
