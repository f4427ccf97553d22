"""Concurrent streamed answers in one process: how many streams `turn_context.streaming_response`
keeps on pace, and the CPU each update costs.

Run from the repository root:

    python -m benchmarks.streaming_turns [--streams 100 500 1000 2000] [--seconds 10]

For each count, that many turns run at once through the worker's `ConnectorAdapter` and its
real `ConnectorClient` (keep-alive HTTP on loopback): a Web Chat conversation each (pace 0.5 s),
a fake model queueing a word every 50 ms for `--seconds`, then `end_stream()`. The connector
stand-in (`benchmarks.connector_post --serve`, answering `{"id": "1"}`) runs in a subprocess
pinned to the last CPU; this process is pinned to CPU 0. Reported per count: the first update's
delay after the turn started, how late each update came after the one before (beyond the 0.5 s
pace), this process's CPU per update sent (the fake model's wake-ups included: ten words per
update), its CPU utilisation (near 100 %: this process was the limit) and the connector
stand-in's (near 100 %: it was). What is not in it: Redis (the turn's begin and commit, the
fence's renewals; benchmarks/stateful_turns.py measures those) and the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

from benchmarks.harness import process_cpu_seconds
from shared.schema.activity import Activity, ResourceResponse
from worker.bot.adapter import ConnectorAdapter
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy

PACE = 0.5
WORD_SECONDS = 0.05


class Streamer:
    """The bot: a fake model streaming words; records when each of its sends was answered."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.streams: list[tuple[float, list[float]]] = []

    async def on_turn(self, context: TurnContext) -> None:
        sent: list[float] = []

        async def record(
            _: TurnContext,
            activities: list[Activity],
            deliver: Callable[[], Awaitable[list[ResourceResponse]]],
        ) -> list[ResourceResponse]:
            responses = await deliver()
            sent.append(time.monotonic())
            return responses

        context.on_send_activities(record)
        start = time.monotonic()
        stream = context.streaming_response
        stream.queue_informative_update("Thinking...")
        while time.monotonic() - start < self.seconds:
            await asyncio.sleep(WORD_SECONDS)
            stream.queue_text_chunk(" word")
        await stream.end_stream()
        self.streams.append((start, sent))


def activity(url: str, n: int) -> dict[str, object]:
    return {
        "type": "message",
        "id": f"q{n}",
        "text": "tell me",
        "channelId": "webchat",
        "serviceUrl": url,
        "conversation": {"id": f"conversation-{n}"},
        "from": {"id": f"user-{n}"},
        "recipient": {"id": "bot"},
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(url: str, streams: int, seconds: float, server: int) -> dict[str, float]:
    policy = OutboundPolicy(allow_private=True)
    client = ConnectorClient.create(timeout_seconds=30, policy=policy, max_connections=256)
    adapter = ConnectorAdapter(client)
    bot = Streamer(seconds)
    try:
        cpu, wall = time.process_time(), time.monotonic()
        server_cpu = process_cpu_seconds(server)
        await asyncio.gather(
            *(adapter.process_activity(activity(url, n), bot) for n in range(streams))
        )
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        server_cpu = process_cpu_seconds(server) - server_cpu
    finally:
        await client.aclose()
    first = [sent[0] - start for start, sent in bot.streams]
    late = [
        later - earlier - PACE
        for _, sent in bot.streams
        for earlier, later in itertools.pairwise(sent)
    ]
    updates = sum(len(sent) for _, sent in bot.streams)
    return {
        "first_p50": statistics.median(first),
        "first_p99": percentile(first, 0.99),
        "late_p50": statistics.median(late),
        "late_p99": percentile(late, 0.99),
        "late_max": max(late),
        "updates": updates,
        "cpu_per_update_us": cpu / updates * 1e6,
        "cpu_share": cpu / wall,
        "server_share": server_cpu / wall,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 500, 1000, 2000])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    cpus = sorted(os.sched_getaffinity(0))
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.connector_post", "--serve"],
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpus[-1]}),
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        os.sched_setaffinity(0, {cpus[0]})
        print(
            f"{'streams':>7} {'updates':>8} {'first p50/p99 ms':>17} "
            f"{'late p50/p99/max ms':>20} {'CPU/update µs':>14} {'CPU':>5} {'server':>6}"
        )
        for count in args.streams:
            url = f"http://127.0.0.1:{port}/"
            row = asyncio.run(measure(url, count, args.seconds, server.pid))
            print(
                f"{count:>7} {int(row['updates']):>8} "
                f"{row['first_p50'] * 1e3:>8.1f}/{row['first_p99'] * 1e3:<8.1f} "
                f"{row['late_p50'] * 1e3:>6.1f}/{row['late_p99'] * 1e3:.1f}/"
                f"{row['late_max'] * 1e3:<7.1f} {row['cpu_per_update_us']:>14.0f} "
                f"{row['cpu_share']:>5.0%} {row['server_share']:>6.0%}"
            )
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
