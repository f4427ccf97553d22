"""The gateway's metrics, and the ASGI wrapper that counts every answer.

On `POST /api/messages` (the hot path) the cost is one small object wrapping `send` and one
`RequestCounts.acked` call: plain integer additions, turned into Prometheus metric families
only when scraped. (prometheus-client's own Counter and Histogram take a lock per update and
walk the buckets in Python: ~3 µs per request against ~1 µs, of a request's ~90 µs; measured
in docs/benchmarks.md.) The backlog gauges come from the poll the backpressure already does
(`gateway.backlog`), so /metrics adds no Redis command.

Metrics are per process: each gateway process has its own registry, and Prometheus scrapes each
pod (one uvicorn process per pod) and sums across them.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.backlog import ShardBacklog
from shared.telemetry.metrics import CONTENT_TYPE, FAST_BUCKETS, exposition

OTHER_ROUTE = "other"
"""The route label of any path the gateway does not serve (404s): unbounded paths must not
become unbounded series."""


class RequestCounts(Collector):
    """`turnstream_gateway_requests_total` and `turnstream_gateway_ack_seconds`, counted with
    plain additions. The gateway runs one event loop thread, so no lock is needed: a scrape
    (on that same thread) never sees a half-made update."""

    def __init__(self, routes: Iterable[str], buckets: tuple[float, ...]) -> None:
        self._routes = frozenset(routes)
        self._bounds = buckets
        self._buckets = [0] * (len(buckets) + 1)  # the last one: above every bound (+Inf)
        self._sum = 0.0
        self.answers: dict[tuple[str, int], int] = {}

    def count(self, route: str, status: int) -> None:
        """One answer of any route (an unknown path counts as OTHER_ROUTE)."""
        key = (route if route in self._routes else OTHER_ROUTE, status)
        self.answers[key] = self.answers.get(key, 0) + 1

    def acked(self, route: str, status: int, seconds: float) -> None:
        """One answer of the hot path, and how long it took."""
        key = (route, status)
        self.answers[key] = self.answers.get(key, 0) + 1
        self._buckets[bisect_left(self._bounds, seconds)] += 1  # `le`: bound inclusive
        self._sum += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "turnstream_gateway_requests",
            "HTTP requests answered, by route and status.",
            labels=["route", "status"],
        )
        for (route, status), count in sorted(self.answers.items()):
            requests.add_metric([route, str(status)], count)
        yield requests
        cumulative, buckets = 0, []
        for bound, count in zip([*self._bounds, float("inf")], self._buckets, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        yield HistogramMetricFamily(
            "turnstream_gateway_ack_seconds",
            "Time to answer POST /api/messages (for a 202: until Redis holds the activity).",
            buckets=buckets,
            sum_value=self._sum,
        )


class GatewayMetrics:
    """The metrics of one gateway app, in a registry of its own."""

    def __init__(self, routes: Iterable[str], registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = RequestCounts(routes, FAST_BUCKETS)
        r.register(self.requests)
        self.enqueue_errors = Counter(
            "turnstream_gateway_enqueue_errors",
            "Activities Redis did not take (answered 503), by reason.",
            ["reason"],
            registry=r,
        )
        self._length = Gauge(
            "turnstream_stream_length",
            "Entries in the shard's stream (polled).",
            ["shard"],
            registry=r,
        )
        self._lag = Gauge(
            "turnstream_stream_lag",
            "Entries of the shard no worker has read yet (polled).",
            ["shard"],
            registry=r,
        )
        self._pending = Gauge(
            "turnstream_stream_pending",
            "Entries of the shard read by a worker and not committed yet (polled).",
            ["shard"],
            registry=r,
        )
        self.backlog = Gauge(
            "turnstream_gateway_backlog",
            "Entries no worker has read yet, all shards (what TURNSTREAM_MAX_BACKLOG limits).",
            registry=r,
        )

    def answered_totals(self) -> dict[str, int]:
        """Requests answered so far by status, all routes together."""
        totals: dict[str, int] = {}
        for (_, status), count in self.requests.answers.items():
            totals[str(status)] = totals.get(str(status), 0) + count
        return totals

    def enqueue_failed(self, reason: str, activities: int) -> None:
        self.enqueue_errors.labels(reason).inc(activities)

    def backlog_measured(self, shards: list[ShardBacklog]) -> None:
        for shard, backlog in enumerate(shards):
            label = str(shard)
            self._length.labels(label).set(backlog.length)
            self._lag.labels(label).set(backlog.lag)
            self._pending.labels(label).set(backlog.pending)
        self.backlog.set(sum(backlog.lag for backlog in shards))

    async def endpoint(self, request: Request) -> Response:
        """`GET /metrics`."""
        return Response(exposition(self.registry), media_type=CONTENT_TYPE)


class StatusRecorder:
    """Wraps `send` to remember the status the app answered (500 if it never answered) and
    when its head went out (a `stream` request's events follow for minutes: its ack is the
    head)."""

    __slots__ = ("_send", "answered_at", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500
        self.answered_at: float | None = None
        """`time.perf_counter()` when the head was sent."""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.answered_at = time.perf_counter()
        await self._send(message)


class CountedApp:
    """Counts every answer of `app` by route and status (the non-hot-path routes)."""

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        recorder = StatusRecorder(send)
        try:
            await self._app(scope, receive, recorder)
        finally:
            self._metrics.requests.count(scope["path"], recorder.status)
