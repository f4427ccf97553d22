"""One load test run: reply sink up, activities out on schedule, replies awaited, result built."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any, TextIO

from gateway.edge import EdgeLimits, connections_that_fit
from gateway.server import EmbeddedServer, server_config
from turnstream.devconnector import DevConnector
from turnstream.embedded import free_port
from turnstream.loadtest.options import LoadOptions
from turnstream.loadtest.recorder import Recorder, summarize
from turnstream.loadtest.sender import Sender
from turnstream.loadtest.workload import ActivityFactory, Planned, schedule

MIN_SLEEP_SECONDS = 0.001


async def run_load(options: LoadOptions, *, out: TextIO = sys.stderr) -> dict[str, Any]:
    """Run the load test `options` describes; return the result (see `report.write_json`)."""
    options.check()
    run_id = uuid.uuid4().hex[:10]
    recorder = Recorder(run_id, streaming=options.streaming)
    sink = DevConnector(echo_log=False, keep=False)
    sink.listeners.append(recorder.on_reply)
    port = options.sink_port or free_port()
    # Every worker keeps up to 100 connections to the sink: as many as the open-file limit
    # allows (said quietly: the gateway's warning about it names a gateway setting).
    limits = EdgeLimits(max_connections=sink_connection_limit())
    server = EmbeddedServer(server_config(sink.app, options.sink_host, port, limits))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # the sink could not start: raise why
            await asyncio.sleep(0.01)
        service_url = options.service_url or f"http://{options.sink_host}:{port}"
        stream_seconds = options.turn_seconds if options.streaming else None
        factory = ActivityFactory(run_id, options.channel, service_url, stream_seconds)
        progress = _Progress(recorder, options, out)
        # Planned before the clock starts: 60,000 activities take ~40 ms to plan, which made
        # the first sends that late.
        plan = schedule(options.planned, options.rate, options.ramp, options.conversations)
        started_wall = time.time()
        started = time.perf_counter()
        with _collector_paused():
            async with asyncio.TaskGroup() as tasks:
                ticker = tasks.create_task(progress.run(started))
                sent_at_end = await _send_all(options, plan, factory, recorder, started)
                finished_sending = time.perf_counter()
                await _await_replies(recorder, options.answer_window)
                ticker.cancel()
        progress.final(started)
    finally:
        server.should_exit = True
        await serving
    ended = time.perf_counter()
    return _result(
        options,
        run_id,
        service_url,
        recorder,
        started_wall,
        started,
        ended,
        finished_sending,
        sent_at_end,
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the run measures: a full collection walks every
    record the run has kept (one per activity) and paused the sender for up to 226 ms at
    40,000 activities (measured at 4,000/s), which showed as ack latency and late sends.
    What a run allocates is freed by reference counting (it makes no cycles per activity);
    whatever it did leave is collected once the run is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _send_all(
    options: LoadOptions,
    plan: list[Planned],
    factory: ActivityFactory,
    recorder: Recorder,
    started: float,
) -> int:
    """Send every planned activity at its due time, never waiting for earlier answers — except
    within a conversation: like a chat client, it posts a conversation's next activity once the
    previous one was answered, so the gateway gets them in order. A late answer still shows as
    latency, since every latency runs from the intended time."""
    sender = Sender(options.url, options.connections)
    try:
        previous: dict[int, asyncio.Task[None]] = {}  # conversation -> its last post
        async with asyncio.TaskGroup() as requests:
            for planned in plan:
                intended = started + planned.due
                delay = intended - time.perf_counter()
                if delay > 0:
                    # Never early: a send before its time would flatter its latency. Not
                    # shorter than the loop's timer resolution (1 ms under uvloop), which
                    # would spin until then; the lateness it costs is measured (send lag).
                    await asyncio.sleep(max(delay, MIN_SLEEP_SECONDS))
                recorder.sent(planned, intended)
                previous[planned.conversation] = requests.create_task(
                    _post(sender, factory, planned, recorder, previous.get(planned.conversation))
                )
    finally:
        await sender.aclose()
    return len(plan)


async def _post(
    sender: Sender,
    factory: ActivityFactory,
    planned: Planned,
    recorder: Recorder,
    after: asyncio.Task[None] | None,
) -> None:
    recorder.began(planned)  # the generator's own lateness ends here (a conversation's wait is not)
    if after is not None and not after.done():
        await asyncio.wait([after])  # _post never raises: it records failures
    try:
        status = await sender.post(factory.body(planned))
    except (TimeoutError, OSError) as e:
        recorder.failed(planned, e)
    else:
        recorder.acked(planned, status)


async def _await_replies(recorder: Recorder, within: float) -> None:
    """Until no acknowledged message lacks a reply, or `within` seconds; polled because
    replies arrive by the thousand and a check per reply would cost more."""
    deadline = time.perf_counter() + within
    while recorder.awaiting() and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


class _Progress:
    """The live line: one rewritten line on a terminal, one line every 5 s otherwise."""

    def __init__(self, recorder: Recorder, options: LoadOptions, out: TextIO) -> None:
        self._recorder = recorder
        self._options = options
        self._out = out
        self._tty = out.isatty()

    async def run(self, started: float) -> None:
        if not self._options.progress:
            return
        interval = 0.5 if self._tty else 5.0
        while True:
            await asyncio.sleep(interval)
            self._write(started, end="\r" if self._tty else "\n")

    def final(self, started: float) -> None:
        if self._options.progress:
            self._write(started, end="\n")

    def _write(self, started: float, end: str) -> None:
        p = self._recorder.progress()
        ack_p99 = summarize(list(self._recorder.recent_acks))["p99"]
        e2e_p99 = summarize(list(self._recorder.recent_replies))["p99"]
        line = (
            f"{time.perf_counter() - started:6.1f}s  sent {p['sent']}/{self._options.planned}"
            f"  acked {p['acked']}  errors {p['errors']}  replies {p['replies']}"
            f"  awaiting {p['awaiting']}  p99 ack {_ms(ack_p99)}  p99 e2e {_ms(e2e_p99)}"
        )
        print(f"{line:<118}", end=end, file=self._out, flush=True)


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.1f}ms"


def _result(
    options: LoadOptions,
    run_id: str,
    service_url: str,
    recorder: Recorder,
    started_wall: float,
    started: float,
    ended: float,
    finished_sending: float,
    sent: int,
) -> dict[str, Any]:
    acks = recorder.ack_latencies()
    replies = recorder.reply_latencies()
    send_seconds = max(finished_sending - started, 1e-9)
    last_reply = max((t + lat for t, lat in replies), default=started)
    ok = sum(n for code, n in recorder.status_codes.items() if code.startswith("2"))
    counts = recorder.counts()
    return {
        "run_id": run_id,
        "started_at": started_wall,
        "options": {
            "url": options.url,
            "rate": options.rate,
            "duration": options.duration,
            "ramp": options.ramp,
            "conversations": options.conversations,
            "connections": options.connections,
            "reply_timeout": options.reply_timeout,
            "service_url": service_url,
            "channel_id": options.channel,
            "workload": options.workload,
            **({"turn_seconds": options.turn_seconds} if options.streaming else {}),
        },
        "elapsed_seconds": ended - started,
        "sent": sent,
        "status_codes": dict(sorted(recorder.status_codes.items())),
        "errors": dict(recorder.errors),
        "throughput": {
            "sent_per_second": sent / send_seconds,
            "acknowledged_per_second": ok / send_seconds,
            "replies_per_second": counts["received"] / max(last_reply - started, 1e-9),
        },
        "ack_latency_ms": summarize([lat for _, lat in acks]),
        "send_lag_ms": summarize(recorder.send_lags()),
        "end_to_end_latency_ms": summarize([lat for _, lat in replies]),
        "replies": counts,
        **({"streaming": recorder.stream_figures()} if options.streaming else {}),
        "passed": _passed(sent, ok, counts),
        "samples": {
            "ack": _timeline(acks, started),
            "end_to_end": _timeline(replies, started),
        },
        "per_second": {
            "sent": _per_second([t for t, _ in acks], started),
            "acknowledged": _per_second([t + lat for t, lat in acks], started),
            "replied": _per_second([t + lat for t, lat in replies], started),
        },
    }


def sink_connection_limit() -> int:
    return connections_that_fit() or 1_000_000


def _passed(sent: int, ok: int, counts: dict[str, Any]) -> bool:
    """Every activity acknowledged, every message answered, nothing twice or out of order."""
    return (
        ok == sent
        and counts["missing"] == 0
        and counts["duplicate"] == 0
        and counts["out_of_order"] == 0
    )


MAX_PLOTTED = 20_000


def _timeline(samples: list[tuple[float, float]], started: float) -> list[tuple[float, float]]:
    """(seconds since start, latency ms), thinned evenly to at most MAX_PLOTTED points."""
    step = max(1, len(samples) // MAX_PLOTTED)
    ordered = sorted(samples)[::step]
    return [(round(t - started, 4), round(1000 * lat, 3)) for t, lat in ordered]


def _per_second(times: list[float], started: float) -> list[int]:
    """How many of `times` fell in each whole second since the start."""
    counts: list[int] = []
    for t in times:
        second = max(0, int(t - started))
        counts.extend([0] * (second + 1 - len(counts)))
        counts[second] += 1
    return counts
