"""The event loop turnstream's serving processes run on: uvloop where it is installed.

uvloop (libuv, in C) costs less CPU per socket read, write and timer than asyncio's own loop,
which is most of what a gateway or a worker does between its Python work (issue 24: about
35 µs of the worker's ~550 µs of CPU per stateful turn, docs/benchmarks.md). It is a
dependency everywhere but on Windows, where asyncio's loop is used instead. The gateway, the
worker and `turnstream dev` start their loop here, so they all run on the same one and what
is tested on one holds for the others.

Short-lived commands (the operator commands, `turnstream worker --check`) keep asyncio's loop:
they make a round trip or two, and importing uvloop (~2.5 ms) would only lengthen start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop, or asyncio's where uvloop is not installed (Windows)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on `new_event_loop()`'s loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


def loop_name() -> str:
    """The running loop's kind, for a start-up log line: "uvloop" or "asyncio"."""
    module = type(asyncio.get_running_loop()).__module__
    return module.split(".", 1)[0]
