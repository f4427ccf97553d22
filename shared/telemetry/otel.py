"""OpenTelemetry spans, when the `[otel]` extra is installed and a tracer provider is set.

Without the extra nothing here imports opentelemetry: `tracer()` answers None and callers keep
to the plain W3C ids of `shared.telemetry.tracing` (the trace id still reaches the logs and the Bot
Connector). With it, the gateway's enqueue, the worker's turn and each connector call are
spans of one trace, each the parent of the next, across the stream.

A provider is set either by the host program (the OpenTelemetry SDK in your own code, or
`opentelemetry-instrument`) or by `configure_from_env` at the process edge when an OTLP endpoint
is configured with the standard `OTEL_EXPORTER_OTLP_*` variables.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from shared.telemetry.tracing import TraceParent

log = logging.getLogger(__name__)

SERVER, CONSUMER, CLIENT, PRODUCER = "server", "consumer", "client", "producer"
"""Span kinds, named without importing opentelemetry."""


class Span:
    """A started OpenTelemetry span and its W3C identity; `end()` it exactly once."""

    __slots__ = ("_span", "traceparent")

    def __init__(self, span: Any, traceparent: TraceParent) -> None:
        self._span = span
        self.traceparent = traceparent

    def set_attribute(self, key: str, value: str | int | float | bool) -> None:
        self._span.set_attribute(key, value)

    def end(self, error: BaseException | None = None) -> None:
        if error is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.record_exception(error)
            self._span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        self._span.end()


class Tracer:
    """Starts spans that continue a `TraceParent` (a remote parent, as the W3C header is)."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer

    def start(
        self,
        name: str,
        parent: TraceParent | None,
        kind: str,
        attributes: Mapping[str, str | int | float | bool] | None = None,
    ) -> Span:
        from opentelemetry import trace

        context = None
        if parent is not None:
            remote = trace.SpanContext(
                int(parent.trace_id, 16),
                int(parent.span_id, 16),
                is_remote=True,
                trace_flags=trace.TraceFlags(int(parent.flags, 16)),
            )
            context = trace.set_span_in_context(trace.NonRecordingSpan(remote))
        span = self._tracer.start_span(
            name, context=context, kind=trace.SpanKind[kind.upper()], attributes=attributes
        )
        own = span.get_span_context()
        if own.is_valid and (parent is None or own.span_id != int(parent.span_id, 16)):
            identity = TraceParent(
                f"{own.trace_id:032x}", f"{own.span_id:016x}", f"{int(own.trace_flags):02x}"
            )
        else:  # a no-op tracer hands the parent back: keep the ids our own
            identity = parent.child() if parent is not None else TraceParent.new()
        return Span(span, identity)


def tracer(component: str) -> Tracer | None:
    """A tracer for `component` if opentelemetry is installed and a tracer provider has been
    set; else None (no span is worth its cost when nothing would export it)."""
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    return Tracer(provider.get_tracer(component))


def configure_from_env(service_name: str, environ: Mapping[str, str]) -> None:
    """At the process edge: export spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
    `..._TRACES_ENDPOINT`) is set and the `[otel]` extra is installed. Without the variables,
    nothing; without the extra, a warning."""
    if not (
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the [otel] extra is not installed "
            "(pip install 'turnstream[otel]'): no spans are exported"
        )
        return
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return  # the host program set one up already
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter.OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
