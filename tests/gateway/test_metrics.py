"""The gateway's lock-free request counts read back as Prometheus would read them."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import OTHER_ROUTE, GatewayMetrics
from shared.telemetry.metrics import exposition


def samples(metrics: GatewayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = exposition(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_answers_and_ack_times_are_exposed_as_counters_and_a_cumulative_histogram() -> None:
    metrics = GatewayMetrics(["/api/messages", "/healthz"])
    for seconds in (0.0005, 0.0007, 0.003, 60.0):  # 0.0005 is a bound: `le` includes it
        metrics.requests.acked("/api/messages", 202, seconds)
    metrics.requests.acked("/api/messages", 503, 0.001)
    metrics.requests.count("/healthz", 200)
    metrics.requests.count("/wp-login.php", 404)  # any path: one label value, not one series each
    seen = samples(metrics)
    requests = "turnstream_gateway_requests_total"
    assert seen[requests, (("route", "/api/messages"), ("status", "202"))] == 4
    assert seen[requests, (("route", "/api/messages"), ("status", "503"))] == 1
    assert seen[requests, (("route", "/healthz"), ("status", "200"))] == 1
    assert seen[requests, (("route", OTHER_ROUTE), ("status", "404"))] == 1
    ack = "turnstream_gateway_ack_seconds"
    assert seen[f"{ack}_bucket", (("le", "0.0005"),)] == 1
    assert seen[f"{ack}_bucket", (("le", "0.001"),)] == 3
    assert seen[f"{ack}_bucket", (("le", "0.005"),)] == 4
    assert seen[f"{ack}_bucket", (("le", "2.5"),)] == 4
    assert seen[f"{ack}_bucket", (("le", "+Inf"),)] == 5
    assert seen[f"{ack}_count", ()] == 5
    assert abs(seen[f"{ack}_sum", ()] - 60.0052) < 1e-9
    assert metrics.answered_totals() == {"202": 4, "503": 1, "200": 1, "404": 1}
