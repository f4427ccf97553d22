"""The connector client's spans name the URL without its query (a magic code may be in it)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import otel
from shared.telemetry.tracing import TraceParent, current_trace
from worker.runtime.metrics import WorkerMetrics
from worker.runtime.outbound_observer import OutboundObserver


def test_a_span_leaves_the_query_out() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    observer = OutboundObserver(WorkerMetrics(), otel.Tracer(provider.get_tracer("test")))
    token = current_trace.set(TraceParent.new())
    try:
        headers: dict[str, str] = {}
        call = observer.start(
            "GET", "https://api.example/api/usertoken/GetToken?userId=u1&code=424242", headers
        )
        call.ended(200)
    finally:
        current_trace.reset(token)
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["url.full"] == "https://api.example/api/usertoken/GetToken"
    assert "traceparent" in headers
