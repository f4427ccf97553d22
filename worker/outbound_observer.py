"""What every Bot Connector request reports: its status and time (metrics), and its place in the
turn's trace (a `traceparent` header naming a child of the turn's span; an OpenTelemetry client
span when tracing is set up).

Hooked into the connector's aiohttp session as a `TraceConfig`, so it sees every attempt
(retries included) without the connector client knowing about metrics or traces.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import aiohttp

from shared import otel
from shared.tracing import current_trace
from worker.metrics import WorkerMetrics


def outbound_observer(metrics: WorkerMetrics, tracer: otel.Tracer | None) -> aiohttp.TraceConfig:
    """A TraceConfig for the connector's session."""
    config = aiohttp.TraceConfig()

    async def on_start(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        context.started = time.perf_counter()
        context.span = None
        parent = current_trace.get()
        if parent is None:
            return  # not inside a turn (a token fetch, a test): no trace to continue
        if tracer is not None:
            context.span = tracer.start(
                f"turnstream connector {params.method}",
                parent,
                otel.CLIENT,
                {"http.request.method": params.method, "url.full": str(params.url)},
            )
            child = context.span.traceparent
        else:
            child = parent.child()
        params.headers["traceparent"] = child.header()

    async def on_end(session: aiohttp.ClientSession, context: SimpleNamespace, params: Any) -> None:
        status = params.response.status
        metrics.connector_request(params.method, str(status), time.perf_counter() - context.started)
        if context.span is not None:
            context.span.set_attribute("http.response.status_code", status)
            context.span.end()

    async def on_exception(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        metrics.connector_request(params.method, "error", time.perf_counter() - context.started)
        if context.span is not None:
            context.span.end(params.exception)

    config.on_request_start.append(on_start)
    config.on_request_end.append(on_end)
    config.on_request_exception.append(on_exception)
    return config
