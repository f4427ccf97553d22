"""The labels that keep a benchmark from claiming what it did not show (pure logic; the
benchmarks themselves are run by hand, never by the suite)."""

from __future__ import annotations

from benchmarks.ack_latency import generator_verdict
from benchmarks.gateway_ack import RunResult, compare, limit_of


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


def _run(case: str, requests_per_s: float, limit: str, **errors: int) -> RunResult:
    return RunResult(
        case=case, connections=64, repeat=0, requests_per_s=requests_per_s, p50_ms=1.0,
        p90_ms=2.0, p99_ms=3.0, p999_ms=4.0, max_ms=5.0, requests=1000, accepted_202=1000,
        non_202=errors.get("non_202", 0), socket_errors=errors.get("socket_errors", 0),
        timeouts=0, server_cpu_us_per_req=50.0, valkey_cpu_us_per_req=25.0,
        wrk_cpu_us_per_req=15.0, server_cpu_share=1.0 if limit == "server" else 0.8,
        server_cpu_foreign=0.0, load_cpu_busy=0.5, load_cpu_foreign=0.0, wrk_cpu_share=0.2,
        valkey_cpu_share=0.3, requests_sent=1000, stream_entries=None, entries_verdict="",
        limit=limit,
    )  # fmt: skip


def test_an_unsaturated_gateway_bounds_the_ratio_from_below() -> None:
    bare = _run("bare", 20_000, "server")
    met = compare([bare, _run("turnstream", 17_000, "waited")], 64)
    assert met.ratio is None and met.ratio_at_least == 0.85
    assert met.meets_target is True  # its capacity is at least what it served
    low = compare([bare, _run("turnstream", 12_000, "waited")], 64)
    assert low.ratio_at_least == 0.6 and low.meets_target is None  # a low bound settles nothing
    failing = compare([bare, _run("turnstream", 17_000, "waited", non_202=3)], 64)
    assert failing.ratio_at_least is None and failing.meets_target is None
    saturated = compare([bare, _run("turnstream", 14_000, "server")], 64)
    assert saturated.ratio == 0.7 and saturated.meets_target is False
