"""What every Bot Connector request reports: its status and time (metrics), and its place in the
turn's trace (a `traceparent` header naming a child of the turn's span; an OpenTelemetry client
span when tracing is set up).

Plugged into `ConnectorClient` as its `RequestObserver`, so it sees every attempt (retries
included) without the client knowing about metrics or traces. (An aiohttp `TraceConfig` would
do the same without touching the client, but aiohttp then signals a dozen events per request:
measured ~60 µs more CPU per request, against ~5 µs for this.)
"""

from __future__ import annotations

import time

from shared.telemetry import otel
from shared.telemetry.tracing import current_trace
from worker.connector.keepalive_http import AnswerRefused
from worker.runtime.metrics import WorkerMetrics


class _Call:
    __slots__ = ("_method", "_metrics", "_span", "_started")

    def __init__(self, metrics: WorkerMetrics, method: str, span: otel.Span | None) -> None:
        self._metrics = metrics
        self._method = method
        self._span = span
        self._started = time.perf_counter()

    def ended(self, status: int) -> None:
        self._metrics.connector_request(
            self._method, str(status), time.perf_counter() - self._started
        )
        if self._span is not None:
            self._span.set_attribute("http.response.status_code", status)
            self._span.end()

    def failed(self, error: BaseException) -> None:
        # An answer past the bounds, or not HTTP (a hostile service URL), apart from no answer.
        status = "refused" if isinstance(error, AnswerRefused) else "error"
        self._metrics.connector_request(self._method, status, time.perf_counter() - self._started)
        if self._span is not None:
            self._span.end(error)


class OutboundObserver:
    """The connector client's `RequestObserver`."""

    def __init__(self, metrics: WorkerMetrics, tracer: otel.Tracer | None = None) -> None:
        self._metrics = metrics
        self._tracer = tracer

    def start(self, method: str, url: str, headers: dict[str, str]) -> _Call:
        parent = current_trace.get()
        span = None
        if parent is not None:  # inside a turn: the request continues its trace
            if self._tracer is not None:
                span = self._tracer.start(
                    f"turnstream connector {method}",
                    parent,
                    otel.CLIENT,
                    # Without the query: the token service's carries users' magic codes.
                    {"http.request.method": method, "url.full": url.split("?", 1)[0]},
                )
                child = span.traceparent
            else:
                child = parent.child()
            headers["traceparent"] = child.header()
        return _Call(self._metrics, method, span)
