"""A process's long-running background loops, run as one structured group.

Every loop that a gateway or a worker keeps running beside its main work (heartbeats, polls,
lease renewals, takeover, subscriptions) is started in one `BackgroundLoops` owned by the
process's lifespan or main, entered after the resources the loops use are opened:

    async with BackgroundLoops(on_death=stop_the_process) as loops:
        loops.start("heartbeat", heartbeat.run())
        await the_main_work()
    # every loop is cancelled and awaited here, before the resources are closed

A loop runs until it is cancelled; one that ends on an unexpected exception is a bug or an
unhandled failure. Left alone, the process would stay half alive (reading turns with its leases
unrenewed, say), so the death is logged once, critical, with the loop's name, and `on_death`
asks the owner to stop: it drains and exits non-zero (`raise_if_dead`), and liveness fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

from shared.errors import TurnstreamError

log = logging.getLogger(__name__)


class LoopDied(TurnstreamError):
    """A background loop ended on an unexpected error (logged where it died): the process
    stopped because of it and exits non-zero."""

    def __init__(self, name: str) -> None:
        super().__init__(f"background loop {name!r} died")
        self.name = name


_CANCEL_AGAIN_SECONDS = 2.0
"""How long a cancelled loop may take to stop before it is cancelled again."""


class BackgroundLoops:
    """The background loops of one process (or one app's lifespan), in one TaskGroup.

    `on_death(name)` is called once, for the first loop that dies; `dead` names it.
    """

    def __init__(self, on_death: Callable[[str], None] | None = None) -> None:
        self._on_death = on_death
        self._group = asyncio.TaskGroup()
        self._tasks: list[asyncio.Task[None]] = []
        self.dead: str | None = None
        """The name of the first loop that died, if one did."""

    async def __aenter__(self) -> BackgroundLoops:
        await self._group.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self._cancel_all()
        finally:
            await self._group.__aexit__(kind, error, traceback)

    async def _cancel_all(self) -> None:
        """Cancel every loop, and again each one that is still running a while later: a loop
        that lost its cancellation (turned into a TimeoutError it retries on, say, when a
        timeout expired in the same instant) would otherwise keep the process from exiting."""
        pending = {task for task in self._tasks if not task.done()}
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=_CANCEL_AGAIN_SECONDS)
            for task in pending:
                log.error("background loop %r ignored its cancellation; again", task.get_name())

    def start(self, name: str, loop: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `loop` in the group until it is cancelled (or the group is left)."""
        task = self._group.create_task(self._supervised(name, loop), name=name)
        # A loop cancelled before its first step never ran: closed, it is not reported as a
        # coroutine never awaited (closing one that ran is a no-op).
        task.add_done_callback(lambda _: loop.close())
        self._tasks.append(task)
        return task

    async def stop(self, *tasks: asyncio.Task[None]) -> None:
        """Cancel some loops before the others, and wait until they have stopped."""
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def raise_if_dead(self) -> None:
        """Raise `LoopDied` if a loop died (for the owner, once it has stopped)."""
        if self.dead is not None:
            raise LoopDied(self.dead)

    async def _supervised(self, name: str, loop: Coroutine[Any, Any, None]) -> None:
        # The error stays here rather than cancelling the group's other work at once: the
        # owner stops in order (stop reading, drain, close), then exits non-zero.
        try:
            await loop
        except Exception:
            log.critical("background loop %r died; stopping the process", name, exc_info=True)
            if self.dead is None:
                self.dead = name
                if self._on_death is not None:
                    self._on_death(name)


async def pause(seconds: float, stopping: asyncio.Event) -> None:
    """Sleep `seconds`, or less: until `stopping` is set (a loop's pause that a stop cuts short)."""
    try:
        async with asyncio.timeout(seconds):
            await stopping.wait()
    except TimeoutError:
        pass
