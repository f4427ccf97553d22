"""Ack latency of the gateway at half its maximum rate: open loop, from intended send times.

Run from the repository root:

    python -m benchmarks.ack_latency [--max-rate N] [--fraction 0.5] [--duration 20]

The gateway (served as `benchmarks.gateway_ack` serves it: uvicorn, httptools, uvloop) is pinned
to the server CPU; valkey and the load generator share the other one. First its maximum rate:
a closed-loop wrk run with gateway_ack's script (or `--max-rate N`). Then `turnstream loadtest`
offers `--fraction` of it on a fixed schedule (open loop) and reports ack latency from each
activity's *intended* send time, so a slow answer cannot hide by delaying the sends after it
(coordinated omission). No worker consumes the streams: an ack does not wait for one, and the
valkey server is flushed after each phase. A run whose generator fell behind its schedule
measured the generator as much as the gateway: it is labelled and the target is not judged.
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

import orjson

from benchmarks import gateway_ack
from benchmarks.harness import (
    BenchError,
    Ticks,
    child_setup,
    cpu_seconds,
    cpu_ticks,
    machine,
    machine_line,
    pin_all_threads,
    process_cpu_seconds,
    wait_for_quiet,
)
from turnstream.embedded import EmbeddedRedis
from turnstream.loopback_idp import LoopbackIdentityProvider

TARGET_P99_MS = 5.0
LAG_LIMIT_MS = 2.0
"""A generator whose sends began later than this at p99 did not keep its schedule. Its timer
has a 1 ms resolution (uvloop), so up to ~1 ms late is the schedule's own grain."""
NOISY = 0.10
"""Share of a benchmark CPU taken by other processes that makes a run unfit to judge the target:
their work delays the gateway's answers (or the generator's sends) as much as its own does."""
GENERATOR_FULL = 0.90
"""A generator process using this much of its core had no room left to keep its schedule."""
RATE_SHORTFALL = 0.98
"""Sent per second below this share of the offered rate: the generator fell behind."""
HOST = gateway_ack.HOST
EXIT_OK, EXIT_FAILED, EXIT_ENVIRONMENT, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Options:
    max_rate: float | None
    fraction: float
    duration: float
    probe: int
    probe_connections: int
    conversations: int
    connections: int
    server_cpu: int
    load_cpu: int
    appendonly: bool
    json_path: Path | None


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ack_latency",
        description="The gateway's ack latency (p50-p99.9, max) at a fraction of its maximum "
        "rate, open loop, from intended send times.",
    )
    add = parser.add_argument
    add("--max-rate", type=float, help="the gateway's maximum acks/s (default: measure it)")
    add("--fraction", type=float, default=0.5, help="share of the max rate offered (0.5)")
    add("--duration", type=float, default=20.0, help="seconds of open-loop sending (20)")
    add("--probe", type=int, default=8, help="seconds of the closed-loop max-rate run (8)")
    add("--probe-connections", type=int, default=64, help="wrk connections for it (64)")
    add("--conversations", type=int, default=2000, help="conversations of the open loop (2000)")
    add("--connections", type=int, default=64, help="the generator's connections (64)")
    add("--server-cpu", type=int, default=0, help="CPU of the gateway (default 0)")
    add("--load-cpu", type=int, default=1, help="CPU of valkey and the generators (default 1)")
    add(
        "--appendonly",
        action="store_true",
        help="run valkey with AOF, fsync every second (default: in memory only, as gateway_ack)",
    )
    add("--json", type=Path, dest="json_path", help="also write the results to this JSON file")
    ns = parser.parse_args(argv)
    if not 0 < ns.fraction <= 1:
        parser.error("--fraction must be in (0, 1]")
    if ns.max_rate is not None and ns.max_rate <= 0:
        parser.error("--max-rate must be > 0")
    return Options(**vars(ns))


# --------------------------------------------------------------------------- CPU sampling


@dataclass(frozen=True)
class Sample:
    at: float  # time.time(): result.json gives the send window in wall-clock time
    gateway_s: float
    valkey_s: float
    generator_s: float
    ticks: Ticks


class CpuSampler:
    """Samples CPU time of the gateway, valkey and the generator every 0.2 s (a thread of this
    script, on the load CPU), so the figures cover the send window only: the generator's
    start-up (imports, its reply sink) and the wait for replies are left out."""

    def __init__(self, gateway: int, valkey: int, generator: int) -> None:
        self._pids = (gateway, valkey, generator)
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                gateway, valkey, generator = (process_cpu_seconds(p) for p in self._pids)
            except (OSError, ValueError):  # the generator ended
                return
            self.samples.append(Sample(time.time(), gateway, valkey, generator, cpu_ticks()))
            self._stop.wait(0.2)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def window(self, start: float, end: float) -> tuple[Sample, Sample]:
        """The first sample at or after `start` and the last at or before `end`."""
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            raise BenchError("too few CPU samples inside the send window (a run too short?)")
        return inside[0], inside[-1]


# --------------------------------------------------------------------------- the gateway's view

ACK_HISTOGRAM = "turnstream_gateway_ack_seconds"


def gateway_ack_histogram(port: int) -> dict[str, float]:
    """The gateway's own ack-time histogram from its /metrics (request in to 202 out, the
    Redis round trip included): cumulative counts by upper bound (`le`), plus `sum`."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    histogram: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(f"{ACK_HISTOGRAM}_bucket{{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            histogram[bound] = float(line.rsplit(" ", 1)[1])
        elif line.startswith(f"{ACK_HISTOGRAM}_sum "):
            histogram["sum"] = float(line.rsplit(" ", 1)[1])
    if "+Inf" not in histogram:
        raise BenchError(f"the gateway's /metrics has no {ACK_HISTOGRAM} histogram")
    return histogram


def gateway_view(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Over the open loop only (the warm-up's requests subtracted): the share of acks at or
    under each bound, and the mean in ms."""
    count = after["+Inf"] - before["+Inf"]
    if count <= 0:
        return {}
    view = {
        f"<= {float(bound) * 1000:g} ms": (after[bound] - before[bound]) / count
        for bound in after
        if bound not in ("+Inf", "sum") and float(bound) <= 0.05
    }
    view["mean ms"] = 1000 * (after["sum"] - before["sum"]) / count
    return view


# --------------------------------------------------------------------------- the open loop


@dataclass(frozen=True)
class OpenLoop:
    offered_per_s: float
    sent_per_s: float
    sent: int
    status_codes: dict[str, int]
    errors: dict[str, int]
    ack_ms: dict[str, float | None]
    send_lag_ms: dict[str, float | None]
    gateway_cpu_share: float
    gateway_cpu_us_per_ack: float
    valkey_cpu_share: float
    generator_cpu_share: float
    generator_cpu_us_per_send: float
    server_cpu_busy: float
    load_cpu_busy: float
    server_cpu_others: float
    """Share of the gateway's CPU that other processes used."""
    load_cpu_others: float
    """Share of the load CPU used by processes other than the generator and valkey."""
    gateway_view: dict[str, float]
    """The gateway's own ack times over the open loop (`gateway_view`): the part of the
    latency spent between its request in and its 202 out, Redis round trip included."""
    verdict: str


def generator_verdict(
    lag_p99_ms: float | None, generator_share: float, sent_per_s: float, offered_per_s: float
) -> str:
    """`kept its schedule`, or why the generator did not (then its run is not a claim)."""
    problems = []
    if lag_p99_ms is None or lag_p99_ms > LAG_LIMIT_MS:
        late = "?" if lag_p99_ms is None else f"{lag_p99_ms:.2f}"
        problems.append(f"its sends began {late} ms late at p99 (limit {LAG_LIMIT_MS:g} ms)")
    if generator_share >= GENERATOR_FULL:
        problems.append(f"it used {generator_share:.0%} of its CPU")
    if sent_per_s < RATE_SHORTFALL * offered_per_s:
        problems.append(f"it sent {sent_per_s:,.0f}/s of {offered_per_s:,.0f}/s")
    return "kept its schedule" if not problems else "GENERATOR BEHIND: " + "; ".join(problems)


def run_open_loop(opts: Options, bench: gateway_ack.Bench, rate: float, scratch: Path) -> OpenLoop:
    wait_for_quiet({opts.server_cpu, opts.load_cpu})
    with bench.warm_server("turnstream", opts.probe_connections) as (server, _keys):
        out = scratch / "loadtest"
        command = [
            "taskset", "-c", str(opts.load_cpu), sys.executable, "-m", "turnstream", "loadtest",
            "--url", f"http://{HOST}:{server.port}{gateway_ack.PATH}", "--rate", f"{rate:.0f}",
            "--duration", f"{opts.duration:g}", "--conversations", str(opts.conversations),
            "--connections", str(opts.connections), "--reply-timeout", "0", "--no-progress",
            "--out", str(out),
        ]  # fmt: skip
        assert bench.valkey.pid is not None
        histogram_before = gateway_ack_histogram(server.port)
        generator = subprocess.Popen(
            command, cwd=gateway_ack.REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=child_setup({opts.load_cpu}),
        )  # fmt: skip
        try:
            with CpuSampler(server.pid, bench.valkey.pid, generator.pid) as sampler:
                output, _ = generator.communicate(timeout=opts.duration + 120)
        finally:
            if generator.poll() is None:
                generator.kill()
                generator.wait(5)
        seen_by_gateway = gateway_view(histogram_before, gateway_ack_histogram(server.port))
    result_path = out / "result.json"
    if not result_path.exists():
        raise BenchError(f"turnstream loadtest wrote no result:\n{output.decode()[-3000:]}")
    result = orjson.loads(result_path.read_bytes())
    # No worker runs, so no message is answered: its exit status 1 says only that.
    return open_loop_figures(opts, result, sampler, rate, seen_by_gateway)


def open_loop_figures(
    opts: Options,
    result: dict[str, Any],
    sampler: CpuSampler,
    rate: float,
    seen_by_gateway: dict[str, float],
) -> OpenLoop:
    started = float(result["started_at"])
    # The first second is left out: connections opening, the loop finding its pace.
    before, after = sampler.window(started + 1.0, started + opts.duration)
    wall = max(after.at - before.at, 1e-9)
    server_busy, server_window = cpu_seconds(before.ticks, after.ticks, opts.server_cpu)
    load_busy, load_window = cpu_seconds(before.ticks, after.ticks, opts.load_cpu)
    sent_per_s = float(result["throughput"]["sent_per_second"])
    acks_in_window = sent_per_s * wall  # the rate is constant: acks in the window ~ sends
    generator_share = (after.generator_s - before.generator_s) / wall
    gateway_share = (after.gateway_s - before.gateway_s) / wall
    valkey_share = (after.valkey_s - before.valkey_s) / wall
    server_cpu_busy = server_busy / max(server_window, 1e-9)
    load_cpu_busy = load_busy / max(load_window, 1e-9)
    lag = result["send_lag_ms"]
    return OpenLoop(
        offered_per_s=rate,
        sent_per_s=sent_per_s,
        sent=int(result["sent"]),
        status_codes=result["status_codes"],
        errors=result["errors"],
        ack_ms=result["ack_latency_ms"],
        send_lag_ms=lag,
        gateway_cpu_share=gateway_share,
        gateway_cpu_us_per_ack=(after.gateway_s - before.gateway_s) * 1e6 / acks_in_window,
        valkey_cpu_share=valkey_share,
        generator_cpu_share=generator_share,
        generator_cpu_us_per_send=(after.generator_s - before.generator_s) * 1e6 / acks_in_window,
        server_cpu_busy=server_cpu_busy,
        load_cpu_busy=load_cpu_busy,
        # This script's sampling thread is on the load CPU too: a few per cent at most.
        server_cpu_others=max(0.0, server_cpu_busy - gateway_share),
        load_cpu_others=max(0.0, load_cpu_busy - generator_share - valkey_share),
        gateway_view=seen_by_gateway,
        verdict=generator_verdict(lag["p99"], generator_share, sent_per_s, rate),
    )


# --------------------------------------------------------------------------- output


def print_max_rate(run: gateway_ack.RunResult | None, max_rate: float) -> None:
    if run is None:
        print(f"max rate: {max_rate:,.0f} acks/s (given with --max-rate)")
        return
    print("max rate, closed loop (wrk, gateway_ack's script):")
    gateway_ack.print_run(run)
    if run.limit != "server":
        print(
            f"  !! the gateway used {run.server_cpu_share:.0%} of its core: {max_rate:,.0f} acks/s "
            "is what this load allowed, a lower bound of its maximum; the rate below is a "
            "fraction of that bound, not of the maximum"
        )


def print_open_loop(r: OpenLoop, fraction: float) -> None:
    def row(label: str, s: dict[str, float | None]) -> str:
        cells = "".join(
            f"{'-' if s[k] is None else f'{s[k]:.2f}':>9}"
            for k in ("p50", "p90", "p99", "p99_9", "max")
        )
        return f"{label:<12}{cells}"

    codes = ", ".join(f"{code} x{n}" for code, n in r.status_codes.items()) or "none"
    errors = ", ".join(f"{name} x{n}" for name, n in r.errors.items()) or "none"
    print(
        f"\nopen loop at {fraction:.0%} of it: offered {r.offered_per_s:,.0f}/s, sent "
        f"{r.sent_per_s:,.0f}/s ({r.sent} activities); status codes {codes}; errors {errors}"
    )
    print(f"{'ms':<12}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}")
    print(row("ack", r.ack_ms))
    print(row("send lag", r.send_lag_ms))
    print(
        f"CPU: gateway {r.gateway_cpu_share:.0%} of its core ({r.gateway_cpu_us_per_ack:.1f} "
        f"us/ack; server CPU {r.server_cpu_busy:.0%} busy); load CPU {r.load_cpu_busy:.0%} busy: "
        f"generator {r.generator_cpu_share:.0%} ({r.generator_cpu_us_per_send:.1f} us/send), "
        f"valkey {r.valkey_cpu_share:.0%}; other processes: {r.server_cpu_others:.0%} of the "
        f"gateway's CPU, {r.load_cpu_others:.0%} of the load CPU"
    )
    if r.gateway_view:
        shares = ", ".join(
            f"{bound} {share:.1%}" for bound, share in r.gateway_view.items() if bound != "mean ms"
        )
        print(
            f"the gateway's own ack times (its metrics: request in to 202 out, Redis round trip "
            f"included): mean {r.gateway_view['mean ms']:.2f} ms; {shares}"
        )
    print(f"generator: {r.verdict}")


def judge(r: OpenLoop, probe: gateway_ack.RunResult | None, fraction: float) -> str:
    if r.verdict != "kept its schedule":
        return "ack latency target: not judged (the generator fell behind its schedule)"
    if r.errors or any(not code.startswith("2") for code in r.status_codes):
        return "ack latency target: not judged (errors or refusals: see above)"
    if max(r.server_cpu_others, r.load_cpu_others) > NOISY:
        return (
            "ack latency target: not judged (other processes shared the benchmark's CPUs: "
            "their work is in these latencies)"
        )
    p99 = r.ack_ms["p99"]
    assert p99 is not None
    if probe is None:
        at = f"{fraction:.0%} of the --max-rate given"
    elif probe.limit == "server":
        at = f"{fraction:.0%} of its maximum"
    else:
        at = f"{fraction:.0%} of a LOWER BOUND of its maximum"
    verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
    return f"ack latency p99 {p99:.2f} ms at {at}: target <= {TARGET_P99_MS:g} ms: {verdict}"


# --------------------------------------------------------------------------- main


def run(opts: Options) -> tuple[gateway_ack.RunResult | None, float, OpenLoop]:
    cpus = ["--server-cpu", str(opts.server_cpu), "--load-cpu", str(opts.load_cpu)]
    aof = ["--appendonly"] if opts.appendonly else []
    wrk_opts = gateway_ack.parse_options([*cpus, *aof, "--duration", str(opts.probe)])
    with (
        tempfile.TemporaryDirectory(prefix="ack-latency-") as scratch,
        # In memory only unless asked, as gateway_ack measures the max rate: with AOF, valkey's
        # writes and fsyncs to this machine's disk put a tail of their own on every ack
        # (p99 5.9 vs 3.2 ms at 7,000/s, docs/benchmarks.md).
        EmbeddedRedis(appendonly=opts.appendonly) as valkey,
        LoopbackIdentityProvider(app_id=gateway_ack.BENCH_APP_ID) as idp,
    ):
        assert valkey.pid is not None
        pin_all_threads(valkey.pid, {opts.load_cpu})
        bench = gateway_ack.Bench(wrk_opts, valkey, Path(scratch), idp)
        probe: gateway_ack.RunResult | None = None
        if opts.max_rate is None:
            probe = bench.run_case("turnstream", opts.probe_connections, 0)
            max_rate = probe.requests_per_s
        else:
            max_rate = opts.max_rate
        print_max_rate(probe, max_rate)
        rate = opts.fraction * max_rate
        open_loop = run_open_loop(opts, bench, rate, Path(scratch))
    return probe, max_rate, open_loop


def check_environment(opts: Options) -> str | None:
    problem = gateway_ack.check_environment(
        gateway_ack.parse_options(
            ["--server-cpu", str(opts.server_cpu), "--load-cpu", str(opts.load_cpu)]
        )
    )
    if problem and opts.max_rate is not None and problem.startswith("wrk"):
        return None  # wrk only measures the max rate
    return problem


def _exit_on_sigterm(signum: int, frame: object) -> NoReturn:
    raise SystemExit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(sys.argv[1:] if argv is None else argv)
    problem = check_environment(opts)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_ENVIRONMENT
    os.sched_setaffinity(0, {opts.load_cpu})  # this script stays off the gateway's CPU
    print(f"ack_latency: {machine_line()}", flush=True)
    try:
        with _interruptible():
            probe, max_rate, open_loop = run(opts)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    print_open_loop(open_loop, opts.fraction)
    print(judge(open_loop, probe, opts.fraction))
    if opts.json_path is not None:
        document = {
            "benchmark": "ack_latency",
            "target_p99_ms": TARGET_P99_MS,
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()},
            "machine": machine(),
            "max_rate": max_rate,
            "max_rate_run": asdict(probe) if probe is not None else None,
            "open_loop": asdict(open_loop),
        }
        opts.json_path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        print(f"\nresults written to {opts.json_path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
