"""CPU that metrics, trace context and turn log fields add per gateway request and per worker
turn, measured in one process (the end-to-end benchmarks are too noisy on a shared machine to
show a few µs).

Run from the repository root:

    python -m benchmarks.observability_cost [--rounds 5] [--number 20000]

Each figure is the median over `--rounds` of `--number` calls, in µs of process CPU per call.
Nothing touches the network or Redis.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from benchmarks.activities import activity_template
from gateway.app import ROUTES
from gateway.metrics import GatewayMetrics, StatusRecorder
from shared.protocol.envelope import Envelope
from shared.telemetry.tracing import TraceParent, continue_trace, current_trace
from worker.runtime.metrics import Outcome, WorkerMetrics
from worker.runtime.outbound_observer import OutboundObserver
from worker.runtime.turn_observer import TurnObserver


def _per_call_us(call: Callable[[], object], number: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(number):
            call()
        samples.append((time.process_time() - start) / number * 1e6)
    return statistics.median(samples)


def _drive(coroutine: Awaitable[Any]) -> None:
    """Run a coroutine that never suspends, without an event loop's overhead."""
    try:
        coroutine.send(None)  # type: ignore[attr-defined]
    except StopIteration:
        return
    raise AssertionError("suspended")


def measure(number: int, rounds: int) -> dict[str, float]:
    body = orjson.dumps(activity_template())
    header = TraceParent.new().header()
    gateway = GatewayMetrics(ROUTES)
    start_message = {"type": "http.response.start", "status": 202, "headers": []}
    end_message = {"type": "http.response.body", "body": b""}

    async def send(message: Any) -> None:
        return None

    async def answer() -> None:
        recorder = StatusRecorder(send)
        started = time.perf_counter()
        await recorder(start_message)
        await recorder(end_message)
        gateway.requests.acked("/api/messages", recorder.status, time.perf_counter() - started)

    async def bare_answer() -> None:
        await send(start_message)
        await send(end_message)

    observer = TurnObserver(WorkerMetrics(), "bench-worker")
    envelope = Envelope(body, "msteams/conv", time.time(), traceparent=header)

    def turn() -> None:
        with observer.turn(envelope, 3, "1-0", True):
            pass
        observer.ended(Outcome.OK)

    outbound = OutboundObserver(observer.metrics)
    current_trace.set(TraceParent.new())  # as inside a turn

    def connector_call() -> None:
        outbound.start("POST", "https://example.org/v3", {}).ended(200)

    results = {
        "gateway: answer sent bare (2 ASGI sends)": _per_call_us(
            lambda: _drive(bare_answer()), number, rounds
        ),
        "gateway: answer sent counted (status recorder, count, ack histogram)": _per_call_us(
            lambda: _drive(answer()), number, rounds
        ),
        "gateway: trace context, no inbound header (new trace)": _per_call_us(
            lambda: continue_trace(None).header(), number, rounds
        ),
        "gateway: trace context, inbound traceparent (parse + child)": _per_call_us(
            lambda: continue_trace(header).header(), number, rounds
        ),
        "gateway: envelope encode without traceparent": _per_call_us(
            lambda: Envelope(body, "msteams/conv", 1.0).encode(), number, rounds
        ),
        "gateway: envelope encode with traceparent": _per_call_us(
            lambda: Envelope(body, "msteams/conv", 1.0, traceparent=header).encode(),
            number,
            rounds,
        ),
        "worker: per turn (log fields, trace span ids, turn + queue-wait histograms, outcome)": (
            _per_call_us(turn, number, rounds)
        ),
        "worker: per connector request (status counter, time histogram, child traceparent)": (
            _per_call_us(connector_call, number, rounds)
        ),
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.observability_cost",
        description="CPU per request/turn of metrics, trace context and log fields.",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args(argv)
    for name, us in measure(args.number, args.rounds).items():
        print(f"{us:8.2f} us  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
