"""How fast the gateway acknowledges activities, next to a bare Starlette app on the same stack.

Run from the repository root:

    python -m benchmarks.gateway_ack [--connections 64,256] [--duration 10] [--repeat 3]

Three cases: a bare Starlette endpoint, the gateway in anonymous mode, and the gateway checking
a Bot Framework channel token on every request (`turnstream-auth`: keys from a loopback identity
provider, one token reused by all requests, as a channel reuses its token for an hour). Every
case gets the same requests, Authorization header included. All are served by uvicorn
(httptools, uvloop, `gateway.server.server_config`) in a subprocess pinned to one CPU; wrk and
the embedded valkey-server share the other CPU. Each case is restarted for every run, warmed up,
then measured; runs are interleaved (bare, turnstream, turnstream-auth, bare, ...) so drift on
a noisy machine hits every case alike, and medians are reported. See
benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import http.client
import os
import resource
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn, cast

import orjson
import redis
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from benchmarks.activities import CONVERSATION_SLOT, ID_SLOT, SERVICE_URL, activity_template
from benchmarks.harness import (
    BenchError,
    Ticks,
    child_setup,
    cpu_seconds,
    cpu_ticks,
    machine,
    package_version,
    pin_all_threads,
    process_cpu_seconds,
    py_spy_binary,
    wait_for_quiet,
)
from benchmarks.profiling import Profile, summarize_folded
from gateway.app import create_app
from gateway.server import server_config
from shared.gc_tuning import tune_for_serving
from shared.protocol.keys import Keyspace
from shared.settings import Settings
from turnstream.embedded import EmbeddedRedis, free_port, server_binary
from turnstream.loopback_idp import LoopbackIdentityProvider

CASES = ("bare", "turnstream", "turnstream-auth")
TARGET_RATIO = 0.75
SATURATED = 0.90
"""A server using less of its core than this was not the limit of its run: the load generator
(or valkey, or another process on its CPU) was, so its req/s is not a capacity."""
NOISY = 0.05  # share of a benchmark CPU taken by other processes that makes a run suspect
REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PATH = "/api/messages"

EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 130
BENCH_APP_ID = "gateway-ack-bench"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    connections: list[int]
    duration: int
    warmup: int
    repeat: int
    threads: int
    timeout: int
    conversations: int
    server_cpu: int
    load_cpu: int
    appendonly: bool
    json_path: Path | None
    profile_path: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gateway_ack",
        description="Requests/s, latency and CPU per request of the gateway's POST /api/messages, "
        "next to a bare Starlette endpoint, under wrk.",
    )
    add = parser.add_argument
    add("--connections", type=_int_list, default=[64], help="comma list, e.g. 64,256 (default 64)")
    add("--duration", type=_positive, default=10, help="measured seconds per run (default 10)")
    add("--warmup", type=_positive, default=2, help="warm-up seconds before each run (default 2)")
    add("--repeat", type=_positive, default=3, help="runs per case, interleaved (default 3)")
    add("--threads", type=_positive, default=1, help="wrk threads (default 1: wrk has one CPU)")
    add("--timeout", type=_positive, default=2, help="wrk request timeout in seconds (default 2)")
    add("--conversations", type=_positive, default=100, help="distinct conversation ids (100)")
    add("--server-cpu", type=int, default=0, help="CPU of the measured server (default 0)")
    add("--load-cpu", type=int, default=1, help="CPU of wrk, valkey and this script (default 1)")
    add("--appendonly", action="store_true", help="run valkey with AOF (default: in memory only)")
    add("--json", type=Path, dest="json_path", help="also write the results to this JSON file")
    add("--profile", type=Path, dest="profile_path", metavar="DIR",
        help="after measuring, profile one extra run of each case with py-spy at the first "
        "--connections value (not counted); folded stacks go to DIR/<case>.folded")  # fmt: skip
    ns = parser.parse_args(argv)
    return Options(**vars(ns))


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _int_list(raw: str) -> list[int]:
    values = [_positive(part) for part in raw.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError("give at least one number")
    return values


def check_environment(opts: Options) -> str | None:
    """Why the benchmark cannot run here, or None."""
    if shutil.which("wrk") is None:
        return (
            "wrk is not installed; it generates the load. Install it with\n"
            "    apt-get update && apt-get install -y wrk\n"
            "(Debian/Ubuntu) and run the benchmark again."
        )
    if shutil.which("taskset") is None:
        return "taskset (util-linux) is not installed; it pins wrk to the load CPU"
    allowed = os.sched_getaffinity(0)
    if not {opts.server_cpu, opts.load_cpu} <= allowed or opts.server_cpu == opts.load_cpu:
        return (
            f"need two distinct usable CPUs for --server-cpu {opts.server_cpu} and --load-cpu "
            f"{opts.load_cpu}; this process may use {sorted(allowed)}"
        )
    if opts.profile_path is not None and py_spy_binary() is None:
        return "--profile needs py-spy: pip install py-spy (into this virtualenv)"
    return None


# --------------------------------------------------------------------------- the two servers


def bare_app() -> Starlette:
    """The floor: what any Starlette endpoint that reads and parses the body must pay."""

    async def messages(request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(status_code=202)

    return Starlette(routes=[Route(PATH, messages, methods=["POST"])])


def serve(case: str, port: int, redis_url: str, key_prefix: str, metadata_url: str) -> int:
    """The server subprocess: one case, served exactly like the gateway is in production."""
    app: ASGIApp
    if case == "bare":
        app = bare_app()
    else:
        # No workers run here, so the backlog only grows: the limit would turn acks into 503s.
        settings = Settings(redis_url=redis_url, key_prefix=key_prefix, max_backlog=0)
        if case == "turnstream-auth":
            settings = dataclasses.replace(
                settings, app_id=BENCH_APP_ID, openid_metadata_url=metadata_url
            )
        app = create_app(settings)
    config = server_config(app, HOST, port)
    config.loop = "uvloop"  # server_config leaves "auto"; pin it so both cases surely match
    server = uvicorn.Server(config)
    tune_for_serving()  # as `python -m gateway` does; the bare case gets it too
    server.run()
    return EXIT_OK


# --------------------------------------------------------------------------- processes and CPUs


class ServerProcess:
    """One uvicorn server subprocess on 127.0.0.1, pinned to one CPU."""

    def __init__(
        self, case: str, cpu: int, redis_url: str, key_prefix: str, log: Path, metadata_url: str
    ) -> None:
        self.case = case
        self.port = free_port()
        self._cpu = cpu
        self._args = [case, str(self.port), redis_url, key_prefix, metadata_url]
        self._log_path = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self, timeout: float = 20.0) -> None:
        # As a module from the repository root (cwd), so that `benchmarks.*` imports resolve
        # however this process was started.
        command = [sys.executable, "-m", "benchmarks.gateway_ack", "_serve", *self._args]
        with open(self._log_path, "wb") as log:
            self._process = subprocess.Popen(
                command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,  # our Ctrl-C, our shutdown
                preexec_fn=child_setup({self._cpu}),
            )  # fmt: skip
        self._wait_listening(timeout)
        pin_all_threads(self.pid, {self._cpu})  # already inherited; this checks it

    def _wait_listening(self, timeout: float) -> None:
        # uvicorn binds only after the lifespan started, so a connect means "ready".
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BenchError(f"{self.case} server exited: {self.log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                return
            time.sleep(0.05)
        raise BenchError(f"{self.case} server did not listen within {timeout}s: {self.log_tail()}")

    def log_tail(self) -> str:
        text = self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
        return text[-2000:].strip() or "(no output)"

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)


@contextlib.contextmanager
def running_server(
    case: str, cpu: int, redis_url: str, key_prefix: str, log: Path, metadata_url: str
) -> Iterator[ServerProcess]:
    server = ServerProcess(case, cpu, redis_url, key_prefix, log, metadata_url)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- load: wrk + Lua


# wrk runs one Lua state per thread plus one for setup()/done(). Globals read back with
# thread:get() must stay global. Ids are "<run tag>-<thread>-<n>": distinct across threads and
# runs, so the gateway's dedupe never collapses two requests into one stream entry.
#
# The script must cost wrk far less than a request costs the bare server, or wrk is the limit
# (issue 24; each run prints wrk's CPU per request to show it). So: numbers of fixed width,
# which keep every body the same length, let each thread format its request line and headers
# (Content-Length included) once in init(); request() only joins five strings; and there is no
# response() callback, whose absence spares wrk parsing every answer's headers and body into
# Lua. Statuses are still counted: wrk's summary counts every answer >= 400.
_LUA = string.Template(
    """-- generated by benchmarks/gateway_ack.py
local HEAD = [==[$head]==]
local MIDDLE = [==[$middle]==]
local TAIL = [==[$tail]==]
local CONVERSATIONS = $conversations
local AUTHORIZATION = [==[$authorization]==]
local FIRST_ID = 1000000000  -- ten digits for the first 9e9 requests of a thread
local FIRST_CONVERSATION = 100000  -- six digits for up to 900,000 conversations

threads = {}
next_tid = 0
sent = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  local tag = args[1] or "run"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = AUTHORIZATION
  local id_head = HEAD .. tag .. "-" .. tid .. "-"
  local sample = id_head .. FIRST_ID .. MIDDLE .. FIRST_CONVERSATION .. TAIL
  local formatted = wrk.format(nil, nil, nil, sample)
  -- wrk.format puts the body last: what precedes it is this thread's request line + headers.
  prefix = string.sub(formatted, 1, #formatted - #sample) .. id_head
end

function request()
  sent = sent + 1
  return prefix .. (FIRST_ID + sent) .. MIDDLE .. (FIRST_CONVERSATION + sent % CONVERSATIONS)
    .. TAIL
end

function done(summary, latency, requests)
  local s = 0
  for _, t in ipairs(threads) do s = s + t:get("sent") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"sent":%.0f,' ..
    '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
    '"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"p999_us":%.0f,"mean_us":%.1f,"max_us":%.0f}\\n',
    summary.requests, summary.duration, s,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max))
end
"""
)


def write_lua(directory: Path, conversations: int, authorization: str) -> Path:
    rendered = orjson.dumps(activity_template()).decode()
    head, rest = rendered.split(ID_SLOT)
    middle, tail = rest.split(CONVERSATION_SLOT)
    path = directory / "gateway_ack.lua"
    path.write_text(
        _LUA.substitute(
            head=head,
            middle=middle,
            tail=tail,
            conversations=conversations,
            authorization=authorization,
        )
    )
    return path


def sample_body(activity_id: str) -> bytes:
    """One request body exactly like the Lua script builds them."""
    rendered = orjson.dumps(activity_template()).decode()
    return rendered.replace(ID_SLOT, activity_id).replace(CONVERSATION_SLOT, "100000").encode()


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    sent: int
    accepted: int
    rejected: int
    socket_errors: int
    timeouts: int
    non_2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    wrk_cpu_s: float


def run_wrk(opts: Options, port: int, conns: int, seconds: int, lua: Path, tag: str) -> WrkResult:
    command = [
        "taskset", "-c", str(opts.load_cpu), "wrk", "-t", str(min(opts.threads, conns)),
        "-c", str(conns), "-d", f"{seconds}s", "--timeout", f"{opts.timeout}s", "-s", str(lua),
        f"http://{HOST}:{port}{PATH}", "--", tag,
    ]  # fmt: skip
    before = _children_cpu_seconds()
    # subprocess.run kills wrk on timeout and on any exception (Ctrl-C included).
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30,
        start_new_session=True, preexec_fn=child_setup(None),
    )  # fmt: skip
    wrk_cpu = _children_cpu_seconds() - before
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return _wrk_result(orjson.loads(line.removeprefix("BENCH_JSON ")), wrk_cpu)
    raise BenchError(f"wrk exited {done.returncode} without results:\n{done.stdout}{done.stderr}")


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wrk_result(raw: dict[str, float], wrk_cpu_s: float) -> WrkResult:
    return WrkResult(
        requests=int(raw["requests"]),
        duration_s=raw["duration_us"] / 1e6,
        sent=int(raw["sent"]),
        # wrk counts every answer >= 400; the gateway answers an activity 202 or refuses it.
        accepted=int(raw["requests"] - raw["status"]),
        rejected=int(raw["status"]),
        socket_errors=int(raw["connect"] + raw["read"] + raw["write"]),
        timeouts=int(raw["timeout"]),
        non_2xx=int(raw["status"]),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        wrk_cpu_s=wrk_cpu_s,
    )


# --------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class RunResult:
    case: str
    connections: int
    repeat: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    requests: int
    accepted_202: int
    non_202: int
    socket_errors: int
    timeouts: int
    server_cpu_us_per_req: float
    valkey_cpu_us_per_req: float
    wrk_cpu_us_per_req: float
    server_cpu_share: float
    server_cpu_foreign: float
    load_cpu_busy: float
    load_cpu_foreign: float
    wrk_cpu_share: float
    valkey_cpu_share: float
    requests_sent: int
    stream_entries: int | None
    entries_verdict: str
    limit: str
    """What held the run back: `server` (its core was full: a capacity), `shared` (other
    processes took its core), `load` (the server idled while the load CPU was full: wrk +
    valkey + others could not keep up) or `waited` (the server idled though neither CPU was
    full: every connection's request was waiting on a round trip, to valkey or back through
    wrk; wrk's closed loop with valkey on the same CPU, not the gateway's own CPU, set the pace)."""


@dataclass(frozen=True)
class CpuSnapshot:
    server_s: float
    valkey_s: float
    own_s: float
    ticks: Ticks


def entries_verdict(entries: int | None, accepted: int, sent: int) -> str:
    """Compare stream entries written during the run with the 202s wrk received.

    wrk stops mid-flight: requests it sent but whose answer it never read are still enqueued
    by the gateway, so entries may exceed the 202s by at most the requests in flight at the
    cutoff. Fewer entries than 202s would mean acknowledged activities were lost.
    """
    if entries is None:
        return "n/a"
    if entries == accepted:
        return "ok"
    if entries < accepted:
        return f"MISMATCH: LOST {accepted - entries} acknowledged activities"
    if entries <= sent:
        return f"mismatch +{entries - accepted}: requests in flight when wrk stopped (expected)"
    return f"MISMATCH: {entries - sent} entries more than requests sent"


class Bench:
    """What every run shares: options, the valkey server and its client, a scratch directory."""

    def __init__(
        self, opts: Options, valkey: EmbeddedRedis, scratch: Path, idp: LoopbackIdentityProvider
    ) -> None:
        self.opts = opts
        self.valkey = valkey
        self.client = redis.Redis.from_url(valkey.url)
        self.scratch = scratch
        self.idp = idp
        # One token for the whole benchmark (a channel reuses its token for about an hour).
        self.authorization = f"Bearer {idp.channel_token(SERVICE_URL, lifetime=4 * 3600)}"
        self.lua = write_lua(scratch, opts.conversations, self.authorization)
        self.keys_template = Settings()

    def _keys(self, prefix: str) -> Keyspace:
        return Keyspace(prefix, self.keys_template.shards)

    @contextlib.contextmanager
    def warm_server(self, case: str, conns: int) -> Iterator[tuple[ServerProcess, Keyspace]]:
        """A fresh server with its own key prefix, checked with one request, then warmed up."""
        prefix = f"bench-{uuid.uuid4().hex[:12]}"
        log = self.scratch / f"{prefix}-{case}.log"
        with running_server(
            case, self.opts.server_cpu, self.valkey.url, prefix, log, self.idp.metadata_url
        ) as server:
            self._check_accepts(server, prefix)
            run_wrk(self.opts, server.port, conns, self.opts.warmup, self.lua, f"{prefix}-w")
            yield server, self._keys(prefix)
        self.client.flushdb()  # our private server: drop this run's streams and dedupe markers

    def run_case(self, case: str, conns: int, repeat: int) -> RunResult:
        wait_for_quiet({self.opts.server_cpu, self.opts.load_cpu})
        with self.warm_server(case, conns) as (server, keys):
            entries_before = self._settled_entries(keys)
            before = self._cpu_snapshot(server.pid)
            wrk = run_wrk(self.opts, server.port, conns, self.opts.duration, self.lua, "m")
            after = self._cpu_snapshot(server.pid)  # right away: settling is not load
            entries = self._settled_entries(keys) - entries_before
        return self._result(case, conns, repeat, wrk, before, after, entries)

    def _check_accepts(self, server: ServerProcess, prefix: str) -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
        try:
            body = sample_body(f"{prefix}-check")
            headers = {"Content-Type": "application/json", "Authorization": self.authorization}
            connection.request("POST", PATH, body, headers)
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status != 202:
            raise BenchError(
                f"{server.case} answered {response.status} {answer[:300]!r} to a valid activity; "
                f"log: {server.log_tail()}"
            )

    def _stream_entries(self, keys: Keyspace) -> int:
        pipe = self.client.pipeline(transaction=False)
        for stream in keys.streams():
            pipe.xlen(stream)
        return sum(cast(list[int], pipe.execute()))

    def _settled_entries(self, keys: Keyspace, limit: float = 5.0) -> int:
        """Entry count once the server has finished requests still in flight after wrk left."""
        deadline = time.monotonic() + limit
        last = -1
        while True:
            count = self._stream_entries(keys)
            if count == last or time.monotonic() > deadline:
                return count
            last = count
            time.sleep(0.2)

    def _cpu_snapshot(self, server_pid: int) -> CpuSnapshot:
        assert self.valkey.pid is not None
        own = resource.getrusage(resource.RUSAGE_SELF)
        return CpuSnapshot(
            server_s=process_cpu_seconds(server_pid),
            valkey_s=process_cpu_seconds(self.valkey.pid),
            own_s=own.ru_utime + own.ru_stime,
            ticks=cpu_ticks(),
        )

    def _result(
        self,
        case: str,
        conns: int,
        repeat: int,
        wrk: WrkResult,
        before: CpuSnapshot,
        after: CpuSnapshot,
        entries: int,
    ) -> RunResult:
        per_request = 1e6 / max(wrk.requests, 1)
        stored = entries if case != "bare" else None
        server_s = after.server_s - before.server_s
        # What else ran on the server's CPU (a CI job, someone's test run) skews the run: report it.
        server_busy, server_window = cpu_seconds(before.ticks, after.ticks, self.opts.server_cpu)
        server_window = max(server_window, 1e-9)
        load_busy, load_window = cpu_seconds(before.ticks, after.ticks, self.opts.load_cpu)
        load_window = max(load_window, 1e-9)
        ours = wrk.wrk_cpu_s + after.valkey_s - before.valkey_s + after.own_s - before.own_s
        return RunResult(
            case=case,
            connections=conns,
            repeat=repeat,
            requests_per_s=wrk.requests / wrk.duration_s,
            p50_ms=wrk.p50_ms,
            p90_ms=wrk.p90_ms,
            p99_ms=wrk.p99_ms,
            p999_ms=wrk.p999_ms,
            max_ms=wrk.max_ms,
            requests=wrk.requests,
            accepted_202=wrk.accepted,
            non_202=wrk.rejected,
            socket_errors=wrk.socket_errors,
            timeouts=wrk.timeouts,
            server_cpu_us_per_req=server_s * per_request,
            valkey_cpu_us_per_req=(after.valkey_s - before.valkey_s) * per_request,
            wrk_cpu_us_per_req=wrk.wrk_cpu_s * per_request,
            server_cpu_share=server_s / server_window,
            server_cpu_foreign=max(0.0, server_busy - server_s) / server_window,
            load_cpu_busy=load_busy / load_window,
            load_cpu_foreign=max(0.0, load_busy - ours) / load_window,
            wrk_cpu_share=wrk.wrk_cpu_s / load_window,
            valkey_cpu_share=(after.valkey_s - before.valkey_s) / load_window,
            requests_sent=wrk.sent,
            stream_entries=stored,
            entries_verdict=entries_verdict(stored, wrk.accepted, wrk.sent),
            limit=limit_of(
                server_s / server_window,
                max(0.0, server_busy - server_s) / server_window,
                load_busy / load_window,
            ),
        )


def limit_of(server_share: float, server_foreign: float, load_busy: float) -> str:
    """What held a run back; see `RunResult.limit`."""
    if server_share >= SATURATED:
        return "server"
    if server_share + server_foreign >= SATURATED:
        return "shared"
    return "load" if load_busy >= SATURATED else "waited"


# --------------------------------------------------------------------------- profiling


def profile_case(bench: Bench, case: str, conns: int, out: Path) -> Profile:
    """One extra, uncounted run with py-spy sampling the server (py-spy on the load CPU)."""
    opts = bench.opts
    with bench.warm_server(case, conns) as (server, _keys):
        cpu_before = process_cpu_seconds(server.pid)
        spy = _start_py_spy(opts, server.pid, out)
        try:
            wrk = run_wrk(opts, server.port, conns, opts.duration, bench.lua, "p")
            cpu_used = process_cpu_seconds(server.pid) - cpu_before
            _, spy_err = spy.communicate(timeout=30)
        finally:
            if spy.poll() is None:
                spy.kill()
                spy.wait(5)
    if spy.returncode != 0 or not out.exists():
        raise BenchError(f"py-spy failed ({spy.returncode}): {spy_err.decode(errors='replace')}")
    return summarize_folded(case, out, wrk.requests, cpu_used * 1e6 / max(wrk.requests, 1))


def _start_py_spy(opts: Options, pid: int, out: Path) -> subprocess.Popen[bytes]:
    binary = py_spy_binary()
    assert binary is not None
    # --nonblocking: sampling must not pause the server, or it would measure itself.
    command = [
        "taskset", "-c", str(opts.load_cpu), binary, "record", "--pid", str(pid),
        "--format", "raw", "--output", str(out), "--rate", "250", "--nonblocking",
        "--duration", str(opts.duration),
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=child_setup(None),
    )  # fmt: skip


# --------------------------------------------------------------------------- summary and output


@dataclass(frozen=True)
class CaseSummary:
    case: str
    connections: int
    runs: int
    requests_per_s: float
    requests_per_s_min: float
    requests_per_s_max: float
    capacity: float | None
    """Median req/s of the runs that filled the server's core (`limit == "server"`), if any."""
    saturated_runs: int
    p50_ms: float
    p99_ms: float
    socket_errors: int
    timeouts: int
    non_202: int
    server_cpu_us_per_req: float
    valkey_cpu_us_per_req: float
    wrk_cpu_us_per_req: float
    server_cpu_share: float
    server_cpu_foreign_max: float
    load_cpu_busy: float
    wrk_cpu_share: float
    valkey_cpu_share: float
    load_cpu_foreign_max: float
    entries_ok: bool
    limits: dict[str, int]
    """How many runs each `RunResult.limit` held back."""
    requests_per_s_clean: float | None
    """Median req/s of the runs without an error, a non-202 or a stream mismatch (None if
    none): what a lower bound of the capacity may be taken from."""


@dataclass(frozen=True)
class Comparison:
    connections: int
    bare: CaseSummary
    turnstream: CaseSummary
    ratio: float | None
    """Capacity over capacity; None unless both cases filled their core in some run."""
    cpu_ratio: float
    """Bare server CPU per request over the gateway's: how much of the machine an ack takes,
    comparable even when a run was load-bound (at a lower rate it is a little pessimistic:
    fewer enqueues share each Redis round trip)."""
    pair_ratios: list[float] = field(default_factory=list)
    auth: CaseSummary | None = None
    """The gateway checking a channel token on every request (when measured)."""
    auth_ratio: float | None = None
    auth_cpu_ratio: float | None = None
    auth_pair_ratios: list[float] = field(default_factory=list)
    ratio_at_least: float | None = None
    """When the gateway never filled its core but the bare server did: the gateway's req/s over
    the bare capacity. A server that was not saturated can serve at least what it served, so
    this bounds the capacity ratio from below (it is not the ratio)."""
    auth_ratio_at_least: float | None = None

    @property
    def meets_target(self) -> bool | None:
        """None: neither a capacity ratio nor a lower bound could be measured. A lower bound
        at or above the target meets it; one below it settles nothing."""

        def verdict(ratio: float | None, at_least: float | None) -> bool | None:
            if ratio is not None:
                return ratio >= TARGET_RATIO
            if at_least is not None and at_least >= TARGET_RATIO:
                return True
            return None

        verdicts = [verdict(self.ratio, self.ratio_at_least)]
        if self.auth is not None:
            verdicts.append(verdict(self.auth_ratio, self.auth_ratio_at_least))
        if False in verdicts:
            return False
        return None if None in verdicts else True

    @property
    def cases(self) -> list[CaseSummary]:
        return [self.bare, self.turnstream] + ([self.auth] if self.auth else [])


def summarize(runs: list[RunResult], case: str, conns: int) -> CaseSummary:
    mine = [r for r in runs if r.case == case and r.connections == conns]
    saturated = [r.requests_per_s for r in mine if r.limit == "server"]
    rps = [r.requests_per_s for r in mine]
    clean = [
        r.requests_per_s
        for r in mine
        if not (r.socket_errors or r.timeouts or r.non_202)
        and not r.entries_verdict.startswith("MISMATCH")
    ]
    median = statistics.median
    return CaseSummary(
        case=case,
        connections=conns,
        runs=len(mine),
        requests_per_s=median(rps),
        requests_per_s_min=min(rps),
        requests_per_s_max=max(rps),
        capacity=median(saturated) if saturated else None,
        saturated_runs=len(saturated),
        p50_ms=median([r.p50_ms for r in mine]),
        p99_ms=median([r.p99_ms for r in mine]),
        socket_errors=sum(r.socket_errors for r in mine),
        timeouts=sum(r.timeouts for r in mine),
        non_202=sum(r.non_202 for r in mine),
        server_cpu_us_per_req=median([r.server_cpu_us_per_req for r in mine]),
        valkey_cpu_us_per_req=median([r.valkey_cpu_us_per_req for r in mine]),
        wrk_cpu_us_per_req=median([r.wrk_cpu_us_per_req for r in mine]),
        server_cpu_share=median([r.server_cpu_share for r in mine]),
        server_cpu_foreign_max=max(r.server_cpu_foreign for r in mine),
        load_cpu_busy=median([r.load_cpu_busy for r in mine]),
        wrk_cpu_share=median([r.wrk_cpu_share for r in mine]),
        valkey_cpu_share=median([r.valkey_cpu_share for r in mine]),
        load_cpu_foreign_max=max(r.load_cpu_foreign for r in mine),
        entries_ok=all(not r.entries_verdict.startswith("MISMATCH") for r in mine),
        limits=dict(collections.Counter(r.limit for r in mine)),
        requests_per_s_clean=median(clean) if clean else None,
    )


def compare(runs: list[RunResult], conns: int) -> Comparison:
    bare = summarize(runs, "bare", conns)
    turnstream = summarize(runs, "turnstream", conns)
    # Ratios of the interleaved pairs too: each pair ran back to back, so it resists drift.
    # Only pairs where both servers filled their core: anything else compares load generators.
    saturated = {
        (r.case, r.repeat): r.requests_per_s
        for r in runs
        if r.connections == conns and r.limit == "server"
    }

    def pairs(case: str) -> list[float]:
        return [
            saturated[(case, i)] / saturated[("bare", i)]
            for i in sorted({i for _, i in saturated})
            if (case, i) in saturated and ("bare", i) in saturated
        ]

    def ratio(case: CaseSummary) -> float | None:
        if case.capacity is None or bare.capacity is None:
            return None
        return case.capacity / bare.capacity

    def at_least(case: CaseSummary) -> float | None:
        if case.capacity is not None or bare.capacity is None or case.requests_per_s_clean is None:
            return None
        return case.requests_per_s_clean / bare.capacity

    measured_auth = any(r.case == "turnstream-auth" and r.connections == conns for r in runs)
    auth = summarize(runs, "turnstream-auth", conns) if measured_auth else None
    return Comparison(
        conns,
        bare,
        turnstream,
        ratio(turnstream),
        bare.server_cpu_us_per_req / turnstream.server_cpu_us_per_req,
        pairs("turnstream"),
        auth,
        ratio(auth) if auth else None,
        bare.server_cpu_us_per_req / auth.server_cpu_us_per_req if auth else None,
        pairs("turnstream-auth") if auth else [],
        at_least(turnstream),
        at_least(auth) if auth else None,
    )


_LIMITS = {
    "server": "server-bound",
    "load": "LOAD-BOUND, load CPU full: not a capacity",
    "waited": "LOAD-BOUND, neither CPU full: the server waited on round trips; not a capacity",
    "shared": "CPU SHARED with other work: not a capacity",
}


def print_run(r: RunResult) -> None:
    entries = (
        "" if r.stream_entries is None else f" entries={r.stream_entries} ({r.entries_verdict})"
    )
    print(
        f"  {r.case:<15} c={r.connections:<4} #{r.repeat + 1}: {r.requests_per_s:>9,.0f} req/s  "
        f"[{_LIMITS[r.limit]}]  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:7.2f} ms  "
        f"202s={r.accepted_202} non-202={r.non_202} sock-err={r.socket_errors} "
        f"timeouts={r.timeouts}  server {r.server_cpu_us_per_req:5.1f} us/req "
        f"({r.server_cpu_share:.0%} of its CPU, others {r.server_cpu_foreign:.0%}); load CPU "
        f"{r.load_cpu_busy:.0%}: wrk {r.wrk_cpu_share:.0%} ({r.wrk_cpu_us_per_req:.1f} us/req), "
        f"valkey {r.valkey_cpu_share:.0%}, others {r.load_cpu_foreign:.0%}{entries}",
        flush=True,
    )


def print_comparison(c: Comparison) -> None:
    header = (
        f"{'case':<16}{'capacity req/s':>15}{'req/s all runs':>17}{'p50 ms':>8}{'p99 ms':>9}"
        f"{'errors':>8}{'non-202':>8}{'srv us/req':>11}{'valkey us/req':>14}{'srv CPU':>8}"
        f"{'wrk CPU':>8}{'wrk us/req':>11}{'others (srv/load)':>18}"
    )
    print(f"\n== {c.connections} connections, medians of {c.bare.runs} runs ==")
    print(header)
    for s in c.cases:
        errors = s.socket_errors + s.timeouts
        capacity = (
            f"{s.capacity:,.0f} ({s.saturated_runs}/{s.runs})"
            if s.capacity is not None
            else "not saturated"
        )
        print(
            f"{s.case:<16}{capacity:>15}"
            f"{f'{s.requests_per_s_min:,.0f}-{s.requests_per_s_max:,.0f}':>17}"
            f"{s.p50_ms:>8.2f}{s.p99_ms:>9.2f}{errors:>8}{s.non_202:>8}"
            f"{s.server_cpu_us_per_req:>11.1f}{s.valkey_cpu_us_per_req:>14.1f}"
            f"{s.server_cpu_share:>8.0%}{s.wrk_cpu_share:>8.0%}{s.wrk_cpu_us_per_req:>11.1f}"
            f"{f'{s.server_cpu_foreign_max:.0%} / {s.load_cpu_foreign_max:.0%}':>18}"
        )
    print(
        f"server CPU per request, bare/turnstream: {c.cpu_ratio:.2f}x "
        f"({c.bare.server_cpu_us_per_req:.1f} vs {c.turnstream.server_cpu_us_per_req:.1f} us)"
        + (
            f"; bare/turnstream-auth: {c.auth_cpu_ratio:.2f}x"
            if c.auth is not None and c.auth_cpu_ratio is not None
            else ""
        )
    )
    if c.ratio is None:
        print(
            f"turnstream/bare capacity: not measured (a case never filled {SATURATED:.0%} of its "
            "core: its req/s says what the load generator or the machine allowed, not the server)"
        )
        for s in c.cases:
            held = ", ".join(f"{n} {_LIMITS[limit]}" for limit, n in s.limits.items())
            print(f"  {s.case} runs: {held}")
        if c.ratio_at_least is not None:
            verdict = "meets" if c.ratio_at_least >= TARGET_RATIO else "settles nothing"
            print(
                f"turnstream/bare capacity at least {c.ratio_at_least:.2f}x (a lower bound: the "
                "gateway's req/s without filling its core over the bare capacity); target >= "
                f"{TARGET_RATIO:.2f}x: {verdict}"
            )
    else:
        pairs = ", ".join(f"{p:.2f}" for p in c.pair_ratios) or "none with both saturated"
        verdict = "meets" if c.meets_target else "BELOW"
        print(
            f"turnstream/bare capacity: {c.ratio:.2f}x (per interleaved pair: {pairs}); "
            f"target >= {TARGET_RATIO:.2f}x: {verdict}"
        )
    if c.auth is not None:
        if c.auth_ratio is None:
            print("turnstream-auth/bare capacity: not measured (a case was never saturated)")
            if c.auth_ratio_at_least is not None:
                print(
                    f"turnstream-auth/bare capacity at least {c.auth_ratio_at_least:.2f}x "
                    "(a lower bound, as above)"
                )
        else:
            auth_pairs = ", ".join(f"{p:.2f}" for p in c.auth_pair_ratios) or "none"
            print(
                f"turnstream-auth/bare capacity: {c.auth_ratio:.2f}x (per interleaved pair: "
                f"{auth_pairs})"
            )
    foreign = max(
        s.server_cpu_foreign_max if cpu == "server" else s.load_cpu_foreign_max
        for s in c.cases
        for cpu in ("server", "load")
    )
    if foreign > NOISY:
        print(f"!! other processes took {foreign:.0%} of a benchmark CPU in some run: noisy")
    if not all(s.entries_ok for s in c.cases[1:]):
        print("!! stream entries do not match the 202s; see the per-run lines above")


def print_profiles(profiles: list[Profile]) -> None:
    """Per component: share of samples times CPU per request = CPU µs per request, per case."""
    print("\n== py-spy: server CPU per request by innermost Python frame ==")
    names = sorted(
        {name for p in profiles for name in p.components},
        key=lambda name: -max(p.us_per_request(name) for p in profiles),
    )
    print(f"{'component':<62}" + "".join(f"{p.case + ' us/req':>18}" for p in profiles))
    for name in names:
        cells = "".join(
            f"{p.us_per_request(name):>10.1f} ({p.components.get(name, 0):>4.0%})" for p in profiles
        )
        print(f"{name[:61]:<62}{cells}")
    totals = "".join(f"{p.server_cpu_us_per_req:>10.1f}        " for p in profiles)
    print(f"{'total (server CPU us/req during the profiled run)':<62}{totals}")
    for p in profiles:
        print(f"-- {p.case}: {p.samples} samples, {p.requests} requests, stacks in {p.path}")
        for function, share in p.functions:
            print(f"  {share:6.1%} {share * p.server_cpu_us_per_req:6.1f} us/req  {function}")


def machine_description(opts: Options) -> dict[str, Any]:
    valkey = subprocess.run(
        [str(server_binary()), "--version"], capture_output=True, text=True, timeout=10
    ).stdout.strip()
    return {
        **machine(),
        "valkey": valkey,
        "server_cpu": opts.server_cpu,
        "load_cpu": opts.load_cpu,
        "versions": {name: package_version(name) for name in _PACKAGES},
    }


_PACKAGES = ("uvicorn", "starlette", "uvloop", "httptools", "redis", "hiredis", "orjson", "msgpack")


def write_json(
    path: Path, opts: Options, runs: list[RunResult], comparisons: list[Comparison],
    profiles: list[Profile],
) -> None:  # fmt: skip
    document = {
        "benchmark": "gateway_ack",
        "target_ratio": TARGET_RATIO,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
        "machine": machine_description(opts),
        "request_body_bytes": len(sample_body("x" * 40)),
        "comparisons": [{**asdict(c), "meets_target": c.meets_target} for c in comparisons],
        "runs": [asdict(r) for r in runs],
        "profiles": [asdict(p) for p in profiles],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


# --------------------------------------------------------------------------- main


def run_all(opts: Options) -> tuple[list[RunResult], list[Profile]]:
    runs: list[RunResult] = []
    profiles: list[Profile] = []
    with (
        tempfile.TemporaryDirectory(prefix="gateway-ack-") as scratch,
        EmbeddedRedis(appendonly=opts.appendonly) as valkey,
        # Serves keys only while each auth server starts: a thread here, on the load CPU.
        LoopbackIdentityProvider(app_id=BENCH_APP_ID) as idp,
    ):
        assert valkey.pid is not None
        pin_all_threads(valkey.pid, {opts.load_cpu})
        bench = Bench(opts, valkey, Path(scratch), idp)
        for conns in opts.connections:
            for repeat in range(opts.repeat):
                for case in CASES:
                    runs.append(bench.run_case(case, conns, repeat))
                    print_run(runs[-1])
        if opts.profile_path is not None:
            opts.profile_path.mkdir(parents=True, exist_ok=True)
            for case in CASES:
                out = opts.profile_path / f"{case}.folded"
                profiles.append(profile_case(bench, case, opts.connections[0], out))
    return runs, profiles


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(EXIT_INTERRUPTED)  # unwinds through every `finally`: processes get stopped


def print_plan(opts: Options) -> None:
    body = len(sample_body("x" * 40))
    runs = len(opts.connections) * opts.repeat * len(CASES)
    estimate = runs * (opts.duration + opts.warmup + 4)
    print(
        f"gateway_ack: cases {', '.join(CASES)}; connections {opts.connections}; "
        f"{opts.duration}s measured after {opts.warmup}s warm-up; {opts.repeat} interleaved "
        f"repeats; body ~{body} B; server on CPU {opts.server_cpu}, wrk + valkey on CPU "
        f"{opts.load_cpu}; about {estimate // 60} min {estimate % 60} s",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["_serve"]:  # internal: the server subprocess
        case, port, redis_url, key_prefix, metadata_url = args[1:6]
        return serve(case, int(port), redis_url, key_prefix, metadata_url)
    opts = parse_options(args)
    problem = check_environment(opts)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_ENVIRONMENT
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # This script (and valkey, which inherits the mask) stays off the measured server's CPU.
    os.sched_setaffinity(0, {opts.load_cpu})
    print_plan(opts)
    try:
        runs, profiles = run_all(opts)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    comparisons = [compare(runs, conns) for conns in opts.connections]
    for comparison in comparisons:
        print_comparison(comparison)
    if profiles:
        print_profiles(profiles)
    if opts.json_path is not None:
        write_json(opts.json_path, opts, runs, comparisons, profiles)
        print(f"\nresults written to {opts.json_path}")
    ok = all(s.entries_ok for c in comparisons for s in c.cases[1:])
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
