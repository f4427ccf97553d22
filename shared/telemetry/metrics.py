"""What gateway and worker metrics share: the text exposition and the histogram buckets.

Each gateway app and each worker has a registry of its own (not prometheus-client's global
one), so several of them can run in one process (`turnstream dev`, tests) without colliding,
and a process exposes exactly the metrics of what it runs.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The Prometheus text format's media type."""

FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Seconds, for what should take milliseconds (the gateway's ack: ~1 ms unloaded)."""

SLOW_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds, for turns, queue waits and connector calls (a turn may wait for a slow channel)."""


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry's metrics in the Prometheus text format."""
    return generate_latest(registry)
