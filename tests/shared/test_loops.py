"""BackgroundLoops: a loop that dies is logged once by name and stops its owner; leaving the
group cancels and awaits every loop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.loops import BackgroundLoops, LoopDied


async def forever(stopped: list[str], name: str) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        stopped.append(name)


async def test_leaving_the_group_cancels_and_awaits_every_loop() -> None:
    stopped: list[str] = []
    async with BackgroundLoops() as loops:
        loops.start("one", forever(stopped, "one"))
        loops.start("two", forever(stopped, "two"))
        await asyncio.sleep(0)
    assert sorted(stopped) == ["one", "two"]  # their cleanup ran before the block was left
    assert loops.dead is None
    loops.raise_if_dead()


async def test_a_loop_that_dies_is_logged_once_by_name_and_asks_its_owner_to_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    deaths: list[str] = []
    stopped: list[str] = []

    async def broken() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("bug in the loop")

    def on_death(name: str) -> None:
        deaths.append(name)
        stop.set()

    async def also_broken() -> None:
        await stop.wait()
        raise RuntimeError("second death")

    with caplog.at_level(logging.CRITICAL, logger="shared.loops"):
        async with asyncio.timeout(10), BackgroundLoops(on_death=on_death) as loops:
            loops.start("healthy", forever(stopped, "healthy"))
            loops.start("broken", broken())
            loops.start("also broken", also_broken())
            await stop.wait()  # the owner's work ends when it is asked to stop
            await asyncio.sleep(0.01)

    assert deaths == ["broken"]  # the owner is asked once, for the first death
    assert loops.dead == "broken"
    assert stopped == ["healthy"]  # the others kept running until the group was left
    died = [r for r in caplog.records if "background loop" in r.getMessage()]
    assert [r.getMessage() for r in died] == [
        "background loop 'broken' died; stopping the process",
        "background loop 'also broken' died; stopping the process",
    ]
    assert died[0].exc_info is not None and "bug in the loop" in str(died[0].exc_info[1])
    with pytest.raises(LoopDied, match="background loop 'broken' died") as raised:
        loops.raise_if_dead()
    assert raised.value.name == "broken"


async def test_stop_ends_some_loops_before_the_others() -> None:
    stopped: list[str] = []
    async with BackgroundLoops() as loops:
        first = loops.start("first", forever(stopped, "first"))
        loops.start("last", forever(stopped, "last"))
        await asyncio.sleep(0)
        await loops.stop(first)
        assert stopped == ["first"]
        await loops.stop()  # nothing to stop: returns
    assert stopped == ["first", "last"]
    assert loops.dead is None  # a cancelled loop did not die
