"""The arithmetic of benchmarks/echo_turns.py's 1-vs-2-workers report (pure logic, no timing):
the ceiling two workers can reach on the machine, from the 1-worker drain's CPU per turn."""

from __future__ import annotations

import pytest

from benchmarks.echo_turns import Drain, WorkerRun, per_turn_us, scaling

TURNS = 30_000
STARTUP = 0.5


def drain(workers: int, turns_per_second: float, us: dict[str, float]) -> Drain:
    """A drain whose processes spent `us` µs per turn (workers: plus their start-up)."""
    cpu = {name: cost * TURNS / 1e6 for name, cost in us.items()}
    cpu["workers"] += workers * STARTUP
    run = WorkerRun(TURNS // workers, "8 of 16", 5.0, cpu["workers"] / workers, 0.1, 10, 100)
    return Drain(
        bot="samples.echo:bot",
        workers=workers,
        turns=TURNS,
        conversations=1000,
        seconds=TURNS / turns_per_second,
        turns_per_second=turns_per_second,
        cpu_seconds=cpu,
        machine_busy=0.5 * workers,
        others_share=0.0,
        per_worker=[run] * workers,
        redis_calls={},
        connections=64 * workers,
    )


def test_cpu_per_turn_leaves_the_workers_start_up_out() -> None:
    one = drain(1, 5000, {"workers": 188, "valkey": 12, "connector": 18})
    assert per_turn_us(one, STARTUP) == pytest.approx(
        {"workers": 188, "valkey": 12, "connector": 18}
    )


def test_the_ceiling_is_two_cpus_over_a_turns_whole_cost_at_one_workers_pace() -> None:
    # The quiet-machine figures: 2 x 188 / (188 + 12 + 18) = 1.72x.
    one = drain(1, 5000, {"workers": 188, "valkey": 12, "connector": 18})
    two = drain(2, 8000, {"workers": 190, "valkey": 14, "connector": 20})
    result = scaling(one, two, STARTUP, cpus=2)
    assert result.ratio == pytest.approx(1.6)
    assert result.ceiling == pytest.approx(2 * 188 / 218)
    assert result.share_of_ceiling == pytest.approx(1.6 / (2 * 188 / 218))


def test_with_cpus_to_spare_the_ceiling_is_twice_one_worker() -> None:
    one = drain(1, 5000, {"workers": 188, "valkey": 12, "connector": 18})
    assert scaling(one, one, STARTUP, cpus=8).ceiling == 2.0
