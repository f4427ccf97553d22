"""One worker process holding N concurrent streamed answers (issue 23): how large N gets before
the time to first chunk or the chunk pace degrades, and the worker's CPU per chunk.

Run from the repository root:

    python -m benchmarks.streaming_worker [--turns 250 500 1000 2000] [--seconds 30] [--ramp 5]

For each N, a fresh `python -m worker --bot turnstream.loadtest.streaming_bot:bot
--concurrency N` (`--concurrency` sets another), pinned to the first CPU, runs against the
embedded Redis-compatible server; this process appends N messages to the shard streams with
the gateway's own enqueue script, evenly over `--ramp` seconds (open loop: each append is due
at a fixed time), each asking for an answer streamed for `--seconds` on Web Chat (a chunk every
0.5 s) — a fake model queueing a word every 50 ms. The connector stand-in is the load test's
sink (`DevConnector` + its `Recorder`), served in this process; it, the appender and the server
share the last CPU.

Reported per N (from the sink's arrival times):
- **first chunk**: due time of the append → the stream's first update (p50/p99, ms);
- **late**: how much later than the channel's pace each update came after the one before
  (interval - 0.5 s; p50/p99, ms);
- **final late**: time to the final message beyond `--seconds` (p50/p99, ms);
- **CPU/update**: the worker's CPU from the first append to the last final message, divided by
  the updates that reached the sink (the turn's read, begin, commit, lease renewals and final
  message spread over its updates; the fake model's wake-ups, 10 a Web Chat update, included);
- **worker**: its CPU utilisation over that time (near 100 %: the worker was the limit);
- **CPU0**: how busy the worker's CPU was, whoever used it (well above the worker's own share
  and near 100 %: other work on a shared machine competed with the worker, and the row says so);
- **load side**: this process's and the server's (the other CPU; near 100 %: they were the
  limit and the row says so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from benchmarks.harness import (
    busy_share,
    child_setup,
    cpu_ticks,
    machine_line,
    pin_all_threads,
    process_cpu_seconds,
)
from gateway.edge import EdgeLimits
from gateway.server import EmbeddedServer, server_config
from shared.protocol.chain import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from turnstream.devconnector import DevConnector
from turnstream.embedded import EmbeddedRedis, free_port
from turnstream.loadtest.recorder import Recorder
from turnstream.loadtest.workload import ActivityFactory, Planned
from worker.bot.streaming import SEND_INTERVALS

BOT = "turnstream.loadtest.streaming_bot:bot"
CHANNEL = "webchat"
PACE = SEND_INTERVALS[CHANNEL]
SHARDS = 16
HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
LOAD_SIDE_LIMIT = 0.9
"""Above this share of its CPU, the load side (sink, appender, server) was the limit."""
CONTENDED = 0.9
"""Above this, the worker's CPU was full; if others used much of it, the row says so."""


@dataclass(frozen=True)
class Row:
    turns: int
    finished: int
    updates: int
    first_p50: float
    first_p99: float
    late_p50: float
    late_p99: float
    final_late_p50: float
    final_late_p99: float
    cpu_per_update_us: float
    worker_share: float
    load_share: float
    worker_cpu_busy: float
    """How busy the worker's CPU was, whoever used it: well above `worker_share`, other work
    (another job on a shared machine) took CPU time the worker may have waited for."""

    def line(self) -> str:
        limit = "  (load side was the limit)" if self.load_share > LOAD_SIDE_LIMIT else ""
        if self.worker_cpu_busy > CONTENDED and self.worker_cpu_busy - self.worker_share > 0.2:
            limit += "  (other work shared the worker's CPU)"
        return (
            f"{self.turns:>6} {self.finished:>6} {self.updates:>8} "
            f"{self.first_p50:>7.0f}/{self.first_p99:<7.0f} "
            f"{self.late_p50:>6.0f}/{self.late_p99:<7.0f} "
            f"{self.final_late_p50:>6.0f}/{self.final_late_p99:<7.0f} "
            f"{self.cpu_per_update_us:>10.0f} {self.worker_share:>6.0%} "
            f"{self.worker_cpu_busy:>6.0%} {self.load_share:>6.0%}"
            f"{limit}"
        )


HEADER = (
    f"{'turns':>6} {'ended':>6} {'updates':>8} {'first p50/p99 ms':>15} "
    f"{'late p50/p99 ms':>14} {'final late p50/p99':>18} {'CPU/upd µs':>10} "
    f"{'worker':>6} {'CPU0':>6} {'load':>6}"
)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.contextmanager
def worker_process(
    redis_url: str, prefix: str, concurrency: int, cpu: int, log: Path
) -> Iterator[int]:
    """`python -m worker` running the streaming bot, pinned to `cpu`; stopped on exit."""
    env = os.environ | {
        "REDIS_URL": redis_url,
        "TURNSTREAM_KEY_PREFIX": prefix,
        "TURNSTREAM_SHARDS": str(SHARDS),
        "TURNSTREAM_LOG_LEVEL": "WARNING",
        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS": "true",  # the sink is on loopback
    }
    command = [sys.executable, "-m", "worker", "--bot", BOT, "--concurrency", str(concurrency)]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, preexec_fn=child_setup({cpu}),
        )  # fmt: skip
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Appender:
    """Puts messages on the shard streams as the gateway does, for one key prefix."""

    def __init__(self, client: aioredis.Redis, prefix: str, service_url: str) -> None:
        self._client = client
        self._keys = Keyspace(prefix, SHARDS)
        self._service_url = service_url

    async def append(self, factory: ActivityFactory, planned: Planned) -> None:
        body = factory.body(planned)
        conversation = conversation_key(CHANNEL, factory.conversation_id(planned.conversation))
        envelope = Envelope(body, conversation, time.time())
        arguments = enqueue_arguments(self._keys, conversation, envelope.encode())
        await self._client.eval(ENQUEUE_SCRIPT, ENQUEUE_KEYS, *arguments)


async def wait_until_answered(recorder: Recorder, within: float) -> None:
    deadline = time.perf_counter() + within
    while recorder.awaiting() and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def run_turns(
    appender: Appender,
    sink: DevConnector,
    service_url: str,
    turns: int,
    seconds: float,
    ramp: float,
) -> Recorder:
    """Append `turns` messages evenly over `ramp` s and wait for every final message."""
    run_id = uuid.uuid4().hex[:10]
    recorder = Recorder(run_id, streaming=True)
    sink.listeners.append(recorder.on_reply)
    factory = ActivityFactory(run_id, CHANNEL, service_url, seconds)
    try:
        started = time.perf_counter()
        for index in range(turns):
            # Conversation = index and sequence 1: one message per conversation, no welcome.
            planned = Planned(index, ramp * index / turns, index, 1)
            intended = started + planned.due
            delay = intended - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            recorder.sent(planned, intended)
            await appender.append(factory, planned)
            recorder.acked(planned, 202)
        await wait_until_answered(recorder, seconds + 60)
    finally:
        sink.listeners.remove(recorder.on_reply)
    return recorder


def figures(recorder: Recorder, seconds: float) -> dict[str, Any]:
    outcomes = [o for o in recorder.outcomes.values() if o.updates]
    first = [1000 * (o.updates[0] - o.intended) for o in outcomes]
    late = [1000 * (b - a - PACE) for o in outcomes for a, b in itertools.pairwise(o.updates)]
    final = [
        1000 * (o.final_at - o.intended - seconds)
        for o in recorder.outcomes.values()
        if o.final_at is not None
    ]
    return {
        "finished": len(final),
        "updates": sum(len(o.updates) for o in outcomes),
        "first_p50": percentile(first, 0.5),
        "first_p99": percentile(first, 0.99),
        "late_p50": percentile(late, 0.5),
        "late_p99": percentile(late, 0.99),
        "final_late_p50": percentile(final, 0.5),
        "final_late_p99": percentile(final, 0.99),
    }


async def measure(
    server: EmbeddedRedis,
    sink: DevConnector,
    service_url: str,
    turns: int,
    opts: argparse.Namespace,
    cpus: tuple[int, int],
    logs: Path,
) -> Row:
    assert server.pid is not None
    prefix = f"bs{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(server.url)
    appender = Appender(client, prefix, service_url)
    concurrency = opts.concurrency or max(turns, 64)
    try:
        with worker_process(server.url, prefix, concurrency, cpus[0], logs / "worker.log") as pid:
            # A short turn first: the worker is up, connected and warm before the clock runs.
            warm = await run_turns(appender, sink, service_url, 1, 0.2, 0)
            if warm.awaiting():
                raise RuntimeError(f"the worker did not answer; see {logs / 'worker.log'}")
            worker_cpu = process_cpu_seconds(pid)
            load_cpu = time.process_time() + process_cpu_seconds(server.pid)
            wall, ticks = time.monotonic(), cpu_ticks()
            recorder = await run_turns(appender, sink, service_url, turns, opts.seconds, opts.ramp)
            wall, busy = time.monotonic() - wall, busy_share(ticks, cpu_ticks(), cpus[0])
            worker_cpu = process_cpu_seconds(pid) - worker_cpu
            load_cpu = time.process_time() + process_cpu_seconds(server.pid) - load_cpu
    finally:
        await client.aclose()
    result = figures(recorder, opts.seconds)
    updates = max(1, result["updates"])
    return Row(
        turns=turns,
        cpu_per_update_us=1e6 * worker_cpu / updates,
        worker_share=worker_cpu / wall,
        load_share=load_cpu / wall,
        worker_cpu_busy=busy,
        **result,
    )


async def sweep(opts: argparse.Namespace, cpus: tuple[int, int], logs: Path) -> list[Row]:
    sink = DevConnector(echo_log=False, keep=False)
    port = free_port()
    limits = EdgeLimits(max_connections=10_000)  # the worker keeps at most 100 to it
    http = EmbeddedServer(server_config(sink.app, HOST, port, limits))
    serving = asyncio.create_task(http.serve())
    rows = []
    try:
        while not http.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        with EmbeddedRedis(appendonly=False) as server:
            assert server.pid is not None
            pin_all_threads(server.pid, {cpus[1]})
            for turns in opts.turns:
                row = await measure(server, sink, f"http://{HOST}:{port}", turns, opts, cpus, logs)
                print(row.line(), flush=True)
                rows.append(row)
    finally:
        http.should_exit = True
        await serving
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=30.0, help="each answer's length")
    parser.add_argument(
        "--ramp", type=float, default=5.0, help="seconds over which the turns start"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="the worker's --concurrency (default: the row's turn count, so that it holds "
        "them all; the worker's own default, 64, makes the rest wait a whole answer)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--logs", type=Path, default=Path(".bench-logs"))
    opts = parser.parse_args(argv)
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        print("needs two CPUs: one for the worker, one for the load side", file=sys.stderr)
        return 2
    cpus = (available[0], available[-1])
    os.sched_setaffinity(0, {cpus[1]})  # this process: sink and appender
    opts.logs.mkdir(parents=True, exist_ok=True)
    print(machine_line())
    print(
        f"{opts.seconds:g} s answers on {CHANNEL} (a chunk every {PACE:g} s), started over "
        f"{opts.ramp:g} s; worker on CPU {cpus[0]}, sink + appender + server on CPU {cpus[1]}"
    )
    print(HEADER)
    rows = asyncio.run(sweep(opts, cpus, opts.logs))
    if opts.json is not None:
        opts.json.write_bytes(
            orjson.dumps(
                {"machine": machine_line(), "rows": [asdict(row) for row in rows]},
                option=orjson.OPT_INDENT_2,
            )
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
