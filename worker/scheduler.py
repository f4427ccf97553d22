"""Run turns concurrently across conversations and strictly one at a time within one."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class ConversationScheduler(Generic[T]):
    """Each conversation gets a FIFO and at most one running item; a semaphore bounds the total.
    `before(item)`, if given, is awaited before the item takes a slot. `handle(item)` may return
    a delay: the item then runs again after it, still ahead of its conversation's later items.

    `pending` counts items accepted and not finished, so the reader can stop reading when the
    process holds enough work (bounded memory).
    """

    def __init__(
        self,
        concurrency: int,
        handle: Callable[[T], Awaitable[float | None]],
        before: Callable[[T], Awaitable[None]] | None = None,
    ) -> None:
        self._handle = handle
        self._before = before
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[T]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.pending = 0

    def submit(self, conversation: str, item: T) -> None:
        self.pending += 1
        queue = self._queues.get(conversation)
        if queue is not None:
            queue.append(item)
            return
        self._queues[conversation] = queue = deque([item])
        task = asyncio.get_running_loop().create_task(self._drain(conversation, queue))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, conversation: str, queue: deque[T]) -> None:
        try:
            while queue:
                if self._before is not None:
                    # Outside the slot: an item waiting on another worker must not hold a
                    # slot, or two workers could each wait on the other's queued items.
                    await self._before(queue[0])
                retry_after: float | None = None
                async with self._slots:
                    try:
                        retry_after = await self._handle(queue[0])
                    except Exception:  # the handler owns its errors; never strand the queue
                        log.exception("turn handler raised in conversation %s", conversation)
                if retry_after is not None:
                    # The item stays at the head of its conversation (nothing overtakes it)
                    # and waits outside the slot before it runs again.
                    await asyncio.sleep(retry_after)
                    continue
                queue.popleft()
                self.pending -= 1
                self._changed.set()
        finally:
            del self._queues[conversation]

    async def wait_changed(self) -> None:
        """Return after some item finished (or at once if none is pending)."""
        if self.pending:
            self._changed.clear()
            await self._changed.wait()

    async def join(self) -> None:
        """Wait until every accepted item finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
