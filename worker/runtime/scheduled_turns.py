"""The worker's side of scheduled turns: queue the turns that are due (shared.protocol.schedule).

Each worker watches the shards it reads first (`worker.runtime.delivery.affinity`): the live
workers split the shards among them, so the number of looks at Redis grows with the shards, not
with the workers. The watcher sleeps until the earliest due time it knows of, at most
`POLL_SECONDS` (a turn scheduled by another process is seen within that), and wakes at once
when this process schedules a turn. Every `SWEEP_SECONDS` it also looks at every other shard,
and fires what is overdue there by more than `SWEEP_GRACE_SECONDS`: a worker that died leaves
its shards to nobody until the membership notices (seconds), and a due turn must not wait on
that. Two workers firing one shard is harmless: the script queues each turn once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from shared.protocol.schedule import LATE_SECONDS, Schedule
from worker.runtime.delivery.scripts import REDIS_FAILURES
from worker.runtime.metrics import WorkerMetrics

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
"""The longest the watcher sleeps between looks at its own shards."""
SWEEP_SECONDS = 1.0
"""How often the watcher also looks at the shards other workers watch."""
SWEEP_GRACE_SECONDS = 0.5
"""How overdue a turn of another worker's shard must be before this one fires it."""
_RETRY_SECONDS = 1.0


class DueTurns:
    """Queues the due turns of the shards `watched()` names, until cancelled (`run`)."""

    def __init__(
        self,
        schedule: Schedule,
        shards: int,
        watched: Callable[[], Sequence[int]],
        metrics: WorkerMetrics | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self._schedule = schedule
        self._shards = shards
        self._watched = watched
        self._metrics = metrics
        self._poll = poll_seconds
        self._sweep = sweep_seconds
        self._woken = asyncio.Event()
        self.fired = 0
        """Turns this worker queued (tests and benchmarks read it)."""

    def wake(self) -> None:
        """A turn was scheduled in this process: look again now (it may be due before the
        watcher's next look)."""
        self._woken.set()

    async def run(self) -> None:
        swept_at = time.monotonic()
        while True:
            self._woken.clear()
            try:
                watched = list(self._watched())
                now = time.time()
                mine = await self._schedule.fire_due(watched, now)
                self._count(mine.lateness)
                if time.monotonic() - swept_at >= self._sweep:
                    swept_at = time.monotonic()
                    others = [s for s in range(self._shards) if s not in set(watched)]
                    swept = await self._schedule.fire_due(
                        others, time.time(), grace=SWEEP_GRACE_SECONDS
                    )
                    self._count(swept.lateness)
            except REDIS_FAILURES as e:
                _unless_cancelled()
                log.warning("scheduled turns not checked (retrying): %s", e)
                await asyncio.sleep(_RETRY_SECONDS)
                continue
            wait = self._poll
            if mine.next_due is not None:
                wait = min(wait, max(0.0, mine.next_due - time.time()))
            if wait > 0:
                try:
                    async with asyncio.timeout(wait):
                        await self._woken.wait()
                except TimeoutError:
                    _unless_cancelled()

    def _count(self, lateness: list[float]) -> None:
        self.fired += len(lateness)
        if self._metrics is None:
            return
        for late in lateness:
            self._metrics.scheduled_fired.inc()
            self._metrics.scheduled_lateness_seconds.observe(max(0.0, late))
            if late > LATE_SECONDS:
                self._metrics.scheduled_late.inc()
        if lateness:
            log.debug("queued %d due turns", len(lateness))


def _unless_cancelled() -> None:
    """Raise CancelledError if this task was cancelled: on Python 3.11 a cancellation that
    meets an expiring timeout can come out as the TimeoutError this loop retries on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
