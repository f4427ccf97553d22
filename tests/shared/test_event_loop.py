"""The serving processes' event loop: uvloop, and its name for the start-up log."""

from __future__ import annotations

import asyncio

import uvloop

from shared import event_loop


def test_run_runs_the_coroutine_on_uvloop_and_returns_its_result() -> None:
    async def main() -> tuple[bool, str]:
        return isinstance(asyncio.get_running_loop(), uvloop.Loop), event_loop.loop_name()

    assert event_loop.run(main()) == (True, "uvloop")


def test_asyncio_loop_is_named_asyncio() -> None:
    async def main() -> str:
        return event_loop.loop_name()

    assert asyncio.run(main()) == "asyncio"
