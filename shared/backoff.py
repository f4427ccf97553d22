"""Exponential backoff, written once: the delay before a retry doubles from `first` up to `cap`.

With jitter (the default), each delay is a random point in the upper half of its step: processes
that failed together (a Redis restart seen by every worker, a 503 seen by every turn) do not
retry together, and no delay shrinks below half its step, so the cap keeps its meaning.
"""

from __future__ import annotations

import random

_MAX_DOUBLINGS = 60
"""Past this the step is at its cap for any sane `first`; keeps 2 ** n a float."""


def exponential(attempt: int, *, first: float, cap: float, jitter: bool = True) -> float:
    """The delay before retry `attempt` (0 for the first retry): `first * 2 ** attempt`, at
    most `cap`, jittered into its upper half unless `jitter` is False."""
    step = min(cap, first * 2.0 ** min(max(attempt, 0), _MAX_DOUBLINGS))
    return step * random.uniform(0.5, 1.0) if jitter else step


class Backoff:
    """The delays of one retry loop: `next()` after each failure, `reset()` after a success."""

    def __init__(self, *, first: float, cap: float, jitter: bool = True) -> None:
        self._first = first
        self._cap = cap
        self._jitter = jitter
        self.attempt = 0
        """Failures since the last reset."""

    def next(self) -> float:
        """The delay before the next try (and count this failure)."""
        delay = exponential(self.attempt, first=self._first, cap=self._cap, jitter=self._jitter)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
