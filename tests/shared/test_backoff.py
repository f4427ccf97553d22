"""The one backoff: doubling from `first` up to `cap`, jittered into the upper half of its step."""

from __future__ import annotations

import random

import pytest

from shared.backoff import Backoff, exponential


def test_steps_double_from_first_up_to_the_cap_without_jitter() -> None:
    steps = [exponential(n, first=0.1, cap=1.0, jitter=False) for n in range(6)]
    assert steps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_jitter_stays_in_the_upper_half_of_each_step() -> None:
    random.seed(7)
    for attempt in range(8):
        step = exponential(attempt, first=0.5, cap=30.0, jitter=False)
        delays = [exponential(attempt, first=0.5, cap=30.0) for _ in range(200)]
        assert all(step / 2 <= delay <= step for delay in delays)
        assert max(delays) - min(delays) > step / 4  # spread, not one value


def test_any_attempt_count_stays_at_the_cap() -> None:
    """A long outage counts thousands of failures: no OverflowError, no negative delay."""
    assert exponential(10_000, first=0.1, cap=5.0, jitter=False) == 5.0
    assert exponential(-3, first=0.1, cap=5.0, jitter=False) == pytest.approx(0.1)


def test_a_backoff_counts_its_failures_and_resets() -> None:
    delays = Backoff(first=0.01, cap=0.05, jitter=False)
    assert [delays.next() for _ in range(4)] == pytest.approx([0.01, 0.02, 0.04, 0.05])
    assert delays.attempt == 4
    delays.reset()
    assert delays.next() == pytest.approx(0.01)
