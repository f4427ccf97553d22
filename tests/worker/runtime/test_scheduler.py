from __future__ import annotations

import asyncio
from collections import defaultdict

from worker.runtime.scheduler import ConversationScheduler


async def test_one_conversation_is_serial_and_others_run_alongside() -> None:
    log: list[str] = []
    gates = {name: asyncio.Event() for name in ("a1", "b1")}
    started: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
    ended: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def handle(item: str) -> None:
        log.append(f"start {item}")
        started[item].set()
        if item in gates:
            await gates[item].wait()
        log.append(f"end {item}")
        ended[item].set()

    scheduler: ConversationScheduler[str] = ConversationScheduler(4, handle)
    for item in ("a1", "a2", "b1"):
        scheduler.submit(item[0], item)
    async with asyncio.timeout(10):
        await started["a1"].wait()
        await started["b1"].wait()
    # a1 and b1 both started (conversations run side by side); a2 waits for a1.
    assert log == ["start a1", "start b1"]
    assert scheduler.pending == 3
    gates["a1"].set()
    async with asyncio.timeout(10):
        await ended["a2"].wait()
    assert log == ["start a1", "start b1", "end a1", "start a2", "end a2"]
    gates["b1"].set()
    await scheduler.join()
    assert scheduler.pending == 0


async def test_concurrency_is_bounded_and_errors_do_not_strand_a_queue() -> None:
    running = 0
    peak = 0
    done: list[int] = []

    async def handle(item: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        if item == 3:
            raise RuntimeError("handler bug")
        done.append(item)

    scheduler: ConversationScheduler[int] = ConversationScheduler(2, handle)
    for item in range(10):
        scheduler.submit(f"c{item % 5}", item)
    await scheduler.join()
    assert peak == 2
    assert sorted(done) == [i for i in range(10) if i != 3]
    assert scheduler.pending == 0


async def test_an_earlier_item_displaces_a_head_still_waiting_before_its_slot() -> None:
    """The takeover case: the successor waits for its predecessor, which then arrives here."""
    ran: list[int] = []
    committed = {item: asyncio.Event() for item in (1, 2)}
    waiting = asyncio.Event()

    async def before(item: int) -> None:
        if item > 1:
            waiting.set()
            await committed[item - 1].wait()  # the predecessor must have committed

    async def handle(item: int) -> None:
        ran.append(item)
        committed[item].set()

    scheduler: ConversationScheduler[int] = ConversationScheduler(
        2, handle, before=before, order=lambda item: item
    )
    scheduler.submit("c", 2)  # the successor arrives first and waits
    await asyncio.wait_for(waiting.wait(), 10)
    scheduler.submit("c", 1)  # its predecessor, taken over from a dead worker
    await asyncio.wait_for(scheduler.join(), 2)
    assert ran == [1, 2]


async def test_before_is_skipped_for_items_ready_at_once() -> None:
    # The common case (the predecessor committed here) needs no task and no round trip.
    asked: list[int] = []
    ran: list[int] = []

    async def before(item: int) -> None:
        asked.append(item)

    async def handle(item: int) -> None:
        ran.append(item)

    scheduler: ConversationScheduler[int] = ConversationScheduler(
        2, handle, before=before, ready=lambda item: item % 2 == 0
    )
    for item in range(6):
        scheduler.submit("c", item)
    await asyncio.wait_for(scheduler.join(), 2)
    assert ran == [0, 1, 2, 3, 4, 5]
    assert asked == [1, 3, 5]


async def test_an_error_before_an_item_gives_it_up_to_its_owner_and_the_queue_goes_on() -> None:
    """A bug in `before` must not leave the item queued forever (a worker would keep renewing
    its entry, and nobody would ever take it over): it is dropped, handed back to its owner,
    and the conversation's later items still run."""
    handled: list[str] = []
    dropped: list[str] = []

    async def before(item: str) -> None:
        if item == "a1":
            raise RuntimeError("bug in before")

    async def handle(item: str) -> None:
        handled.append(item)

    scheduler: ConversationScheduler[str] = ConversationScheduler(
        4, handle, before=before, dropped=dropped.append
    )
    scheduler.submit("a", "a1")
    scheduler.submit("a", "a2")
    async with asyncio.timeout(10):
        await scheduler.join()
    assert dropped == ["a1"]
    assert handled == ["a2"]
    assert scheduler.pending == 0
