"""Run turns concurrently across conversations and strictly one at a time within one."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class ConversationScheduler(Generic[T]):
    """Each conversation gets a queue and at most one running item; a semaphore bounds the total.

    `before(item)`, if given, is awaited before the item takes a slot, unless `ready(item)` says
    it need not be (the common case, answered without a task or a round trip). `handle(item)` may
    return
    a delay: the item then runs again after it, still ahead of its conversation's later items.
    With `order`, a conversation's queue is kept sorted by it, and an earlier item arriving
    while the head only waits in `before` takes the head's place (an entry taken over from a
    dead worker must run before its successors already queued here).

    `pending` counts items accepted and not finished, so the reader can stop reading when the
    process holds enough work (bounded memory).

    An error from `before` is a bug (it has no failure of its own to report): the item is given
    up, logged, counted as finished, and `dropped(item)` lets its owner let go of it (a worker
    stops renewing the entry, so that it is taken over and tried again), rather than the
    conversation's queue dying with the item in it, held forever.
    """

    def __init__(
        self,
        concurrency: int,
        handle: Callable[[T], Awaitable[float | None]],
        before: Callable[[T], Awaitable[None]] | None = None,
        order: Callable[[T], Any] | None = None,
        ready: Callable[[T], bool] | None = None,
        dropped: Callable[[T], None] | None = None,
    ) -> None:
        self._handle = handle
        self._dropped = dropped
        self._before = before
        self._ready = ready
        self._order = order
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[str, list[T]] = {}
        self._running: set[str] = set()
        self._new_head: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.pending = 0

    def submit(self, conversation: str, item: T) -> None:
        self.pending += 1
        queue = self._queues.get(conversation)
        if queue is None:
            self._queues[conversation] = [item]
            task = asyncio.get_running_loop().create_task(self._drain(conversation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        if self._order is None:
            queue.append(item)
            return
        # A running head keeps its place; the others stay sorted.
        low = 1 if conversation in self._running else 0
        keys = [self._order(queued) for queued in queue]
        position = bisect.bisect_right(keys, self._order(item), lo=low)
        queue.insert(position, item)
        if position == 0 and conversation in self._new_head:
            self._new_head[conversation].set()

    async def _drain(self, conversation: str) -> None:
        queue = self._queues[conversation]
        try:
            while queue:
                head = queue[0]
                if not self._may_start(head):
                    try:
                        if not await self._wait_before(conversation, head):
                            continue  # an earlier item took the head's place: start over with it
                    except Exception:
                        log.exception("wait before a turn raised in conversation %s", conversation)
                        self._finished(queue, head)
                        if self._dropped is not None:
                            self._dropped(head)
                        continue
                retry_after: float | None = None
                self._running.add(conversation)
                async with self._slots:
                    try:
                        retry_after = await self._handle(head)
                    except Exception:  # the handler owns its errors; never strand the queue
                        log.exception("turn handler raised in conversation %s", conversation)
                self._running.discard(conversation)
                if retry_after is not None:
                    # The item stays at the head of its conversation (nothing overtakes it)
                    # and waits outside the slot before it runs again.
                    await asyncio.sleep(retry_after)
                    continue
                self._finished(queue, head)
        finally:
            self._running.discard(conversation)
            del self._queues[conversation]

    def _finished(self, queue: list[T], item: T) -> None:
        queue.remove(item)
        self.pending -= 1
        self._changed.set()

    def _may_start(self, head: T) -> bool:
        return self._before is None or (self._ready is not None and self._ready(head))

    async def _wait_before(self, conversation: str, head: T) -> bool:
        """Await `before(head)`; False if an earlier item became the head meanwhile.

        Outside the slot: an item waiting on another worker must not hold a slot, or two
        workers could each wait on the other's queued items.
        """
        assert self._before is not None
        new_head = self._new_head[conversation] = asyncio.Event()
        waiting = asyncio.ensure_future(self._before(head))
        displaced = asyncio.ensure_future(new_head.wait())
        try:
            done, _ = await asyncio.wait({waiting, displaced}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            del self._new_head[conversation]
            displaced.cancel()
        if waiting in done:
            waiting.result()
            return True
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return False

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
