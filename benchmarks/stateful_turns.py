"""Throughput, CPU and Redis commands per turn of one worker running a stateful bot:
`python -m benchmarks.stateful_turns [--conversations 200] [--messages 10] [--repeat 3]`.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import redis
from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks.harness import (
    BenchError,
    child_setup,
    pin_all_threads,
    process_cpu_seconds,
    py_spy_binary,
    wait_for_quiet,
)
from benchmarks.profiling import Profile, summarize_folded
from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol import codec
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from turnstream.devconnector import DevConnector
from turnstream.embedded import EmbeddedRedis, free_port
from worker.runtime.delivery.scripts import Script
from worker.runtime.delivery.send_journal import RECORD_SCRIPT

BOT = "samples.state_management:bot"
HOST, CHANNEL, SHARDS = "127.0.0.1", "msteams", 16
WORKER_CPU, LOAD_CPU = 0, 1
TARGET = 3.0  # Redis commands per turn the worker sends for the turn itself (not in scripts)
TARGET_WORKER_CPU_US = 600  # worker CPU per turn once running (issue 24), start-up left out
HARNESS_COMMANDS = {"config|resetstat", "info", "monitor", "echo"}  # ours, while stats count
STATS_PATH = "/_bench/replies"
REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Options:
    conversations: int
    messages: int
    concurrency: int
    repeat: int
    worker_module: str
    json_path: Path | None
    profile_path: Path | None

    @property
    def turns(self) -> int:
        return self.conversations * (self.messages + 2)


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stateful_turns",
        description="Turns/s, CPU and Redis commands per turn of one worker running the state "
        "management sample in burst mode over a queued workload.",
    )
    add = parser.add_argument
    add("--conversations", type=int, default=200, help="conversations, one user each (200)")
    add("--messages", type=int, default=10, help="messages after hi + name, each (10)")
    add("--concurrency", type=int, default=64, help="worker --concurrency (default 64)")
    add("--repeat", type=int, default=3, help="measured runs (default 3)")
    add(
        "--worker-module",
        default="worker",
        help="module run as the worker (default worker; benchmarks.aiohttp_worker: the connector "
        "client over aiohttp, the transport before decision 0014)",
    )
    add("--json", type=Path, dest="json_path", help="also write the results to this JSON file")
    add("--profile", type=Path, dest="profile_path", metavar="DIR",
        help="after measuring, profile one extra run of the worker with py-spy (on the load "
        "CPU) and write its raw stacks to DIR/worker.folded")  # fmt: skip
    opts = Options(**vars(parser.parse_args(argv)))
    if min(opts.conversations, opts.messages, opts.concurrency, opts.repeat) < 1:
        parser.error("numbers must be >= 1")
    if opts.profile_path is not None and py_spy_binary() is None:
        parser.error("--profile needs py-spy: pip install py-spy (into this virtualenv)")
    return opts


def connector_app() -> ASGIApp:
    """The connector subprocess's app: DevConnector, plus GET STATS_PATH?prefix=P answering
    [replies, first arrival, last arrival] (unix s) over conversations whose id starts with P."""
    dev = DevConnector(echo_log=False)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STATS_PATH:
            return await dev.app(scope, receive, send)
        prefix = scope["query_string"].decode().removeprefix("prefix=")
        times = [r.received_at for r in dev.received if r.conversation_id.startswith(prefix)]
        body = orjson.dumps([len(times), min(times, default=0), max(times, default=0)])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


@contextlib.contextmanager
def connector_process(log: Path) -> Iterator[tuple[int, str]]:
    """(pid, serviceUrl) of the connector: uvicorn (uvloop, httptools) on LOAD_CPU."""
    port = free_port()
    app = "benchmarks.stateful_turns:connector_app"
    command = [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=child_setup({LOAD_CPU}),
        )  # fmt: skip
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            time.sleep(0.1)
        else:
            raise BenchError(f"the connector did not listen: {log.read_text(errors='replace')}")
        yield process.pid, f"http://{HOST}:{port}"
    finally:
        process.kill()  # it holds nothing worth a graceful stop
        process.wait(10)


def activity(tag: str, i: int, n: int, service_url: str) -> dict[str, Any]:
    """Message n of conversation i: "hi", then the user's name, then ordinary messages."""
    text = "hi" if n == 0 else f"User{i}" if n == 1 else f"message {n - 1}"
    at = f"2026-11-21T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z"  # a new second:
    return {  # each message changes ConversationData.timestamp, so each turn saves state
        "type": "message", "id": f"{tag}-{i}-{n}", "text": text, "channelId": CHANNEL,
        "serviceUrl": service_url, "timestamp": at, "locale": "en-US",
        "conversation": {"id": f"{tag}-conv-{i}"}, "from": {"id": f"{tag}-user-{i}"},
        "recipient": {"id": "bot", "name": "Bot"},
    }  # fmt: skip


def enqueue_workload(client: redis.Redis, keys: Keyspace, opts: Options, url: str) -> None:
    """Every activity on its shard stream as the gateway puts it; message n of every
    conversation before message n + 1 of any (conversations interleave, each stays in order)."""
    pipe = client.pipeline(transaction=False)
    for n in range(opts.messages + 2):
        for i in range(opts.conversations):
            body = activity(keys.prefix, i, n, url)
            conversation = conversation_key(CHANNEL, body["conversation"]["id"])
            envelope = Envelope(orjson.dumps(body), conversation, time.time())
            # The gateway's own script: each entry is chained after the conversation's previous
            # one, so the workers' ordering gate is measured too.
            pipe.eval(
                ENQUEUE_SCRIPT,
                ENQUEUE_KEYS,
                *enqueue_arguments(keys, conversation, envelope.encode()),
            )
    pipe.execute()


_MONITOR_LINE = re.compile(rb'^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?', re.MULTILINE)
_CONTAINERS = {b"client", b"xgroup", b"xinfo", b"script", b"config", b"command", b"object"}


def start_monitor(port: int) -> socket.socket:
    """A MONITOR connection; valkey buffers what it shows until `monitor_counts` reads it."""
    connection = socket.create_connection((HOST, port), 10)
    connection.sendall(b"MONITOR\r\n")
    if connection.recv(5) != b"+OK\r\n":
        raise BenchError("valkey refused MONITOR")
    return connection


def monitor_counts(connection: socket.socket, port: int) -> Counter[tuple[str, bool]]:
    """Commands seen until now, by (name as INFO commandstats spells it, run inside a script?).

    Read up to a marker (an ECHO sent now on another connection), not until MONITOR falls
    silent: a worker's background commands (heartbeats, blocking reads) never let it."""
    marker = f"monitor-end-{uuid.uuid4().hex}".encode()
    with socket.create_connection((HOST, port), 10) as other:
        other.sendall(b"ECHO " + marker + b"\r\n")
        other.recv(1024)
    data = bytearray()
    deadline = time.monotonic() + 60
    with connection:
        connection.settimeout(10)
        while marker not in data[-(1 << 21) :]:
            if time.monotonic() > deadline or not (chunk := connection.recv(1 << 20)):
                raise BenchError("MONITOR did not show the end marker")
            data += chunk
    counts: Counter[tuple[str, bool]] = Counter()
    for where, name, sub in _MONITOR_LINE.findall(data):
        name, sub = name.lower(), sub.lower()
        full = name + b"|" + sub if name in _CONTAINERS and sub else name
        counts[full.decode(), where == b"lua"] += 1
        if name == b"evalsha" and sub == RECORD_SHA:
            counts[_RECORDS, False] += 1
    return counts


RECORD_SHA = Script(RECORD_SCRIPT).sha.encode()
_RECORDS = "evalsha of sent-reply records"
"""Not a command name: the EVALSHA calls that record sent replies
(worker.runtime.delivery.send_journal), counted apart because they are pipelined in batches and most
turns' records are dropped unsent."""


@dataclass(frozen=True)
class RunResult:
    label: str
    metrics: dict[str, float]  # keys: those of _METRICS
    commands: dict[str, float]  # INFO commandstats calls per turn, commands run by scripts too


def run_worker(
    env: dict[str, str], log: Path, opts: Options, profile: Path | None = None
) -> list[tuple[float, float]]:
    """Run one worker on WORKER_CPU to its exit; (unix time, its CPU seconds) every 10 ms, the
    last one its total from wait4. With `profile`, py-spy samples it into that file."""
    command = [sys.executable, "-m", opts.worker_module, "--bot", BOT, "--burst", "--concurrency",
               str(opts.concurrency)]  # fmt: skip
    samples = [(time.time(), 0.0)]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=child_setup({WORKER_CPU}),
        )  # fmt: skip
    spy = None if profile is None else start_py_spy(process.pid, profile)
    timeout = 60 + opts.turns / 50  # generous: a healthy worker does hundreds of turns/s
    deadline = time.monotonic() + timeout
    try:
        while process.returncode is None and time.monotonic() < deadline:
            time.sleep(0.01)
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                samples.append((time.time(), usage.ru_utime + usage.ru_stime))
            else:
                samples.append((time.time(), process_cpu_seconds(process.pid)))
    finally:
        if process.returncode is None:  # timed out or interrupted
            process.kill()
            process.wait(10)
        if spy is not None:
            stop_py_spy(spy, profile)
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"worker exited {process.returncode} (timeout {timeout:.0f} s?): {tail}")
    return samples


def start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling `pid` until it exits, on LOAD_CPU. --nonblocking: sampling must not pause
    the worker, or the profile would measure itself."""
    binary = py_spy_binary()
    assert binary is not None
    command = [binary, "record", "--pid", str(pid), "--format", "raw", "--output", str(out),
               "--rate", "250", "--nonblocking"]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=child_setup({LOAD_CPU}),
    )  # fmt: skip


def stop_py_spy(spy: subprocess.Popen[bytes], out: Path | None) -> None:
    """py-spy ends with the worker and writes its stacks then; wait for that."""
    try:
        _, err = spy.communicate(timeout=30)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait(5)
    if out is None or not out.exists():
        raise BenchError(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')}")


_IMPORTING = "_find_and_load ("
"""In a stack, the frame of an import: start-up, which --profile leaves out (the rest of start-up,
connecting and loading scripts, is a few samples)."""


def steady_stacks(folded: Path, out: Path) -> tuple[int, int]:
    """Copy py-spy's raw stacks without those of imports; (samples kept, samples dropped)."""
    kept, dropped, lines = 0, 0, []
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        if _IMPORTING in stack:
            dropped += int(count)
        else:
            kept += int(count)
            lines.append(line)
    out.write_text("\n".join(lines) + "\n")
    return kept, dropped


class Bench:
    """What every run shares: options, valkey and a client, the connector, a scratch dir."""

    def __init__(self, opts: Options, valkey: EmbeddedRedis, url: str, scratch: Path) -> None:
        self.opts, self.valkey, self.service_url, self.scratch = opts, valkey, url, scratch
        self.client = redis.Redis.from_url(valkey.url)
        self.accounting: Counter[tuple[str, bool]] = Counter()

    def run(self, label: str, monitor: bool = False, profile: Path | None = None) -> RunResult:
        assert self.valkey.pid is not None
        wait_for_quiet({WORKER_CPU, LOAD_CPU})
        keys = Keyspace(f"bench-{uuid.uuid4().hex[:10]}", SHARDS)
        enqueue_workload(self.client, keys, self.opts, self.service_url)
        # The connector listens on loopback, a private address: allowed explicitly.
        env = {**os.environ, "REDIS_URL": self.valkey.url, "TURNSTREAM_KEY_PREFIX": keys.prefix,
               "TURNSTREAM_SHARDS": str(SHARDS), "TURNSTREAM_LOG_LEVEL": "WARNING",
               "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",
               # Queued turns wait seconds here: their typing indicators would count as replies.
               "TURNSTREAM_TYPING_WHILE_QUEUED_SECONDS": "0"}  # fmt: skip
        for secret in ("MicrosoftAppId", "MicrosoftAppPassword"):
            env.pop(secret, None)  # anonymous: the dev connector wants no token
        self.client.config_resetstat()  # from here on, only the worker talks to valkey
        spy = start_monitor(self.valkey.port) if monitor else None
        valkey = -process_cpu_seconds(self.valkey.pid)
        try:
            samples = run_worker(env, self.scratch / f"{keys.prefix}.log", self.opts, profile)
        finally:
            if spy:
                self.accounting = monitor_counts(spy, self.valkey.port)
        valkey += process_cpu_seconds(self.valkey.pid)
        stats: dict[str, dict[str, Any]] = self.client.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()}
        first, last = self._check(keys)
        self.client.flushdb()
        turns, (start, _), (end, worker) = self.opts.turns, samples[0], samples[-1]
        at_first = max(cpu for t, cpu in samples if t <= first)
        metrics = {
            "wall_s": end - start, "turns_per_s": turns / (end - start),
            "startup_s": first - start, "steady_turns_per_s": turns / max(last - first, 1e-6),
            "worker_cpu_us": worker * 1e6 / turns, "worker_cpu_share": worker / (end - start),
            "steady_worker_cpu_us": (worker - at_first) * 1e6 / turns,
            "valkey_cpu_us": valkey * 1e6 / turns,
        }  # fmt: skip
        commands = {n: c / turns for n, c in sorted(calls.items()) if n not in HARNESS_COMMANDS}
        print(f"  {label}: {end - start:.2f} s, {metrics['turns_per_s']:,.0f} turns/s, worker "
              f"{metrics['worker_cpu_us']:.0f} us/turn, valkey {metrics['valkey_cpu_us']:.1f} "
              "us/turn", flush=True)  # fmt: skip
        return RunResult(label, metrics, commands)

    def _check(self, keys: Keyspace) -> tuple[float, float]:
        """Every turn ran, was acknowledged, replied and saved its state, else BenchError.
        Returns when the first and the last reply arrived."""
        problems = [
            f"{stream}: {g['pending']} entries pending, {g['lag']} never delivered"
            for stream in keys.streams()
            for g in self.client.xinfo_groups(stream)
            if g["pending"] or g["lag"]
        ]
        problems += self._check_state(keys.prefix)
        url = f"{self.service_url}{STATS_PATH}?prefix={keys.prefix}-"
        with urllib.request.urlopen(url, timeout=10) as answer:
            replies, first, last = orjson.loads(answer.read())
        if replies != (expected := self.opts.conversations * (2 + 3 * self.opts.messages)):
            problems.append(f"the connector got {replies} replies, not {expected}")
        if problems:
            raise BenchError("MISMATCH after the run:\n  " + "\n  ".join(problems[:20]))
        return first, last

    def _check_state(self, tag: str) -> list[str]:
        """Every conversation has ConversationData.timestamp, every user UserProfile.name."""
        state, pipe = Keyspace(tag, 1).state, self.client.pipeline(transaction=False)
        for i in range(self.opts.conversations):
            pipe.hget(state(f"{CHANNEL}/conversations/{tag}-conv-{i}"), "d")
            pipe.hget(state(f"{CHANNEL}/users/{tag}-user-{i}"), "d")
        rows = [codec.unpack(row) if row else {} for row in pipe.execute()]
        return [
            f"conversation {i}: state {rows[2 * i]}, user: {rows[2 * i + 1]}"
            for i in range(self.opts.conversations)
            if not _field(rows[2 * i], "ConversationData", "timestamp")
            or _field(rows[2 * i + 1], "UserProfile", "name") != f"User{i}"
        ]


def _field(state: dict[str, Any], item: str, name: str) -> Any:
    """A field of a stored state item; objects of the bot's classes are stored as tagged maps
    (`{"$type": "object", "$class": ..., "$value": {...}}`, worker/bot/state_values.py)."""
    value = state.get(item, {})
    return value.get("$value", value).get(name)


_METRICS = {  # RunResult.metrics key: (label, decimals)
    "wall_s": ("wall s, worker start to exit", 2),
    "turns_per_s": ("turns/s over that wall time", 0),
    "startup_s": ("s from worker start to first reply", 2),
    "steady_turns_per_s": ("turns/s, first to last reply", 0),
    "worker_cpu_us": ("worker CPU us/turn", 0),
    "steady_worker_cpu_us": ("  of it after the first reply", 0),
    "worker_cpu_share": ("worker CPU / wall", 2),
    "valkey_cpu_us": ("valkey CPU us/turn", 1),
}


def summarize(runs: list[RunResult], accounting: Counter[tuple[str, bool]]) -> dict[str, Any]:
    """Medians and spreads; per command, the share of calls clients sent (not scripts)."""
    names = sorted({name for run in runs for name in run.commands})
    share = {n: 1 - accounting[n, True] / max(accounting[n, False] + accounting[n, True], 1)
             for n in names}  # fmt: skip
    sent = [sum(n * share[name] for name, n in r.commands.items()) for r in runs]
    # INFO commandstats does not tell scripts apart: the accounting run's MONITOR does.
    record_share = accounting[_RECORDS, False] / max(accounting["evalsha", False], 1)
    records = [r.commands.get("evalsha", 0.0) * record_share for r in runs]
    return {
        "records_per_turn": spread(records),
        "commands_per_turn_without_records": spread(
            [total - rec for total, rec in zip(sent, records, strict=True)]
        ),
        **{key: spread([r.metrics[key] for r in runs]) for key in _METRICS},
        "commands_per_turn": spread(sent),
        "commands_per_turn_with_script_internal": spread([sum(r.commands.values()) for r in runs]),
        "by_command": {n: statistics.median([r.commands.get(n, 0.0) for r in runs]) for n in names},
        "client_share": share,
    }


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def print_summary(opts: Options, summary: dict[str, Any]) -> None:
    print(f"\n== {opts.turns} turns ({opts.conversations} conversations x {opts.messages + 2}), "
          f"concurrency {opts.concurrency}: median (min-max) of {opts.repeat} runs ==")  # fmt: skip
    for key, (label, digits) in _METRICS.items():
        median, low, high = summary[key]
        print(f"{label:<36}{median:>10,.{digits}f}  ({low:,.{digits}f}-{high:,.{digits}f})")
    print("Redis commands per turn by command (median; 'script' = run inside a Lua script):")
    for name, per_turn in summary["by_command"].items():
        share = summary["client_share"][name]
        who = "client" if share == 1 else "script" if share == 0 else f"{share:.0%} client"
        print(f"  {name:<24}{per_turn:>8.3f}  {who}")
    all_commands = summary["commands_per_turn_with_script_internal"][0]
    print(f"  {'all, incl. in scripts':<24}{all_commands:>8.3f}")
    median, low, high = summary["commands_per_turn"]
    print(f"Redis commands per turn (amortised, incl. stream read): {median:.2f} "
          f"({low:.2f}-{high:.2f})")  # fmt: skip
    median, low, high = summary["records_per_turn"]
    print(f"  of which sent-reply records (pipelined, in batches): {median:.2f} "
          f"({low:.2f}-{high:.2f})")  # fmt: skip
    median, low, high = summary["commands_per_turn_without_records"]
    verdict = "meets" if median <= TARGET else "ABOVE"
    print(f"  the turn's own (read, commit, stream read): {median:.2f} "
          f"({low:.2f}-{high:.2f}) (target <= {TARGET:g}): {verdict}")  # fmt: skip
    median, low, high = summary["steady_worker_cpu_us"]
    verdict = "meets" if median <= TARGET_WORKER_CPU_US else "ABOVE"
    print(f"Worker CPU per turn once running: {median:,.1f} us ({low:,.1f}-{high:,.1f}) "
          f"(target <= {TARGET_WORKER_CPU_US} us): {verdict}")  # fmt: skip


def profile_run(bench: Bench, directory: Path) -> Profile:
    """One extra, uncounted run with py-spy sampling the worker; scaled by that run's worker CPU
    per turn once running (imports left out of the stacks, as start-up is of the CPU)."""
    directory.mkdir(parents=True, exist_ok=True)
    raw, steady = directory / "worker.folded", directory / "worker.steady.folded"
    result = bench.run("profiled run (py-spy on, not counted)", profile=raw)
    kept, dropped = steady_stacks(raw, steady)
    print(f"  py-spy: {kept} samples once imported, {dropped} importing (left out)")
    return summarize_folded(
        "worker", steady, bench.opts.turns, result.metrics["steady_worker_cpu_us"], top=30
    )


def print_profile(profile: Profile) -> None:
    print("\n== py-spy: worker CPU per turn once running, by innermost Python frame ==")
    for name, share in profile.components.items():
        print(f"  {share:6.1%} {share * profile.server_cpu_us_per_req:6.1f} us/turn  {name}")
    print(f"-- {profile.samples} samples, {profile.requests} turns, stacks in {profile.path}")
    for function, share in profile.functions:
        print(f"  {share:6.1%} {share * profile.server_cpu_us_per_req:6.1f} us/turn  {function}")


def run_all(
    opts: Options,
) -> tuple[list[RunResult], RunResult, Counter[tuple[str, bool]], Profile | None]:
    with (
        tempfile.TemporaryDirectory(prefix="stateful-turns-") as scratch,
        EmbeddedRedis(appendonly=False) as valkey,
        connector_process(Path(scratch) / "connector.log") as (connector, url),
    ):
        assert valkey.pid is not None
        pin_all_threads(valkey.pid, {LOAD_CPU})
        pin_all_threads(connector, {LOAD_CPU})
        bench = Bench(opts, valkey, url, Path(scratch))
        # First, not counted: MONITOR tells which commands ran inside scripts; warms caches.
        accounting = bench.run("accounting run (MONITOR on, not counted)", monitor=True)
        runs = [bench.run(f"run {i + 1}") for i in range(opts.repeat)]
        counts = bench.accounting
        profile = None if opts.profile_path is None else profile_run(bench, opts.profile_path)
        return runs, accounting, counts, profile


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(sys.argv[1:] if argv is None else argv)
    if not {WORKER_CPU, LOAD_CPU} <= os.sched_getaffinity(0):
        print(f"needs CPUs {WORKER_CPU} and {LOAD_CPU}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwind every `finally`
    os.sched_setaffinity(0, {LOAD_CPU})  # valkey and the connector inherit it
    print(f"stateful_turns: {opts.turns} turns of {BOT}; worker on CPU {WORKER_CPU}, valkey "
          f"and connector on CPU {LOAD_CPU}; 1 accounting run + {opts.repeat} runs")  # fmt: skip
    try:
        runs, accounting, counts, profile = run_all(opts)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    summary = summarize(runs, counts)
    print_summary(opts, summary)
    if profile is not None:
        print_profile(profile)
    if opts.json_path is not None:
        options = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
        document = {"benchmark": "stateful_turns", "options": options, "summary": summary,
                    "runs": [asdict(r) for r in [accounting, *runs]],
                    "profile": asdict(profile) if profile else None}  # fmt: skip
        opts.json_path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        print(f"results written to {opts.json_path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
