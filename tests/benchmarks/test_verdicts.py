"""The labels that keep a benchmark from claiming what it did not show (pure logic; the
benchmarks themselves are run by hand, never by the suite)."""

from __future__ import annotations

from benchmarks.ack_latency import generator_verdict
from benchmarks.gateway_ack import limit_of


def test_a_generator_on_schedule_is_trusted() -> None:
    assert generator_verdict(1.2, 0.40, 8_480, 8_500) == "kept its schedule"


def test_a_generator_late_full_or_short_of_its_rate_is_labelled_behind() -> None:
    late = generator_verdict(9.7, 0.40, 8_500, 8_500)
    full = generator_verdict(1.0, 0.95, 8_500, 8_500)
    short = generator_verdict(1.0, 0.40, 8_251, 8_500)
    unknown = generator_verdict(None, 0.40, 8_500, 8_500)
    for verdict in (late, full, short, unknown):
        assert verdict.startswith("GENERATOR BEHIND")
    assert "9.70 ms late" in late
    assert "95% of its CPU" in full
    assert "8,251/s of 8,500/s" in short


def test_an_idle_server_is_labelled_by_what_was_full() -> None:
    assert limit_of(0.95, 0.00, 0.50) == "server"
    assert limit_of(0.60, 0.35, 0.50) == "shared"  # others took the rest of its core
    assert limit_of(0.80, 0.05, 0.95) == "load"  # wrk + valkey (+ others) filled the load CPU
    assert limit_of(0.80, 0.05, 0.56) == "waited"  # neither: it waited on round trips
