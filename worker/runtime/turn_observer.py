"""Around each delivery of a turn: its ids in every log line, its span in the trace, its time
and queue wait in the metrics. In process memory only: no Redis command per turn."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from shared.protocol.envelope import Envelope
from shared.telemetry import otel
from shared.telemetry.logs import log_context
from shared.telemetry.tracing import TraceParent, current_trace
from worker.runtime.metrics import Outcome, WorkerMetrics


class TurnObserver:
    """One per worker process: `with observer.turn(...)` around each delivery."""

    def __init__(
        self, metrics: WorkerMetrics, worker_id: str, tracer: otel.Tracer | None = None
    ) -> None:
        self.metrics = metrics
        self._worker_id = worker_id
        self._tracer = tracer

    @contextmanager
    def turn(
        self, envelope: Envelope, shard: int, entry_id: str, first_try: bool
    ) -> Iterator[None]:
        """Set the turn's log fields and trace span for the code inside, and time it."""
        started = time.perf_counter()
        if first_try:  # later tries waited for a retry or a takeover, not in the queue
            self.metrics.queue_wait_seconds.observe(max(0.0, time.time() - envelope.received_at))
        parent = TraceParent.parse(envelope.traceparent)
        span = (
            self._tracer.start(
                "turnstream turn",
                parent,
                otel.CONSUMER,
                {"turnstream.entry_id": entry_id, "turnstream.shard": shard},
            )
            if self._tracer is not None
            else None
        )
        trace = span.traceparent if span else parent.child() if parent else TraceParent.new()
        token = current_trace.set(trace)
        error: BaseException | None = None
        try:
            with log_context(
                conversation=envelope.conversation,
                shard=str(shard),
                entry_id=entry_id,
                worker_id=self._worker_id,
                trace_id=trace.trace_id,
            ):
                yield
        except BaseException as e:
            error = e
            raise
        finally:
            current_trace.reset(token)
            self.metrics.turn_seconds.observe(time.perf_counter() - started)
            if span is not None:
                span.end(error)

    def ended(self, outcome: Outcome) -> None:
        self.metrics.turn_ended(outcome)
