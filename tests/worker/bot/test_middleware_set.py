"""MiddlewareSet run on its own (botbuilder's receive_activity family) and nested as middleware;
middleware from a coroutine function; services registered in turn_state."""

from __future__ import annotations

import pytest

from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.middleware import (
    AnonymousReceiveMiddleware,
    MiddlewareSet,
    RegisterClassMiddleware,
)
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler


def turn() -> TurnContext:
    return TurnContext(RecordingSender(), Activity.from_dict(message("hi")))


class Recorder:
    def __init__(self, name: str, calls: list[str], go_on: bool = True) -> None:
        self.name, self.calls, self.go_on = name, calls, go_on

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        self.calls.append(f"{self.name} before")
        if self.go_on:
            await logic()
        self.calls.append(f"{self.name} after")


async def test_receive_activity_runs_the_chain_in_order_and_then_the_callback() -> None:
    calls: list[str] = []
    middleware = MiddlewareSet().use(Recorder("a", calls), Recorder("b", calls))

    async def callback(context: TurnContext) -> str:
        calls.append("callback")
        return "status"

    assert await middleware.receive_activity_with_status(turn(), callback) == "status"
    assert calls == ["a before", "b before", "callback", "b after", "a after"]
    calls.clear()
    await middleware.receive_activity(turn())
    assert calls == ["a before", "b before", "b after", "a after"]
    calls.clear()
    await middleware.receive_activity_internal(turn(), callback, next_middleware_index=1)
    assert calls == ["b before", "callback", "b after"]
    assert await MiddlewareSet().receive_activity_with_status(turn(), callback) == "status"


async def test_a_middleware_that_stops_leaves_the_callback_unrun() -> None:
    calls: list[str] = []
    middleware = MiddlewareSet().use(Recorder("stop", calls, go_on=False))

    async def callback(context: TurnContext) -> str:
        calls.append("callback")
        return "status"

    assert await middleware.receive_activity_with_status(turn(), callback) is None
    assert calls == ["stop before", "stop after"]


async def test_a_set_nests_as_middleware_and_anonymous_handlers_are_middleware() -> None:
    calls: list[str] = []

    async def anonymous(context: TurnContext, logic: NextHandler) -> None:
        calls.append("anonymous")
        await logic()

    inner = MiddlewareSet().use(Recorder("inner", calls))
    outer = MiddlewareSet().use(AnonymousReceiveMiddleware(anonymous), inner)

    async def bot(context: TurnContext) -> None:
        calls.append("bot")

    await outer.around(bot)(turn())
    assert calls == ["anonymous", "inner before", "inner after", "bot"]
    with pytest.raises(TypeError, match="coroutine function"):
        AnonymousReceiveMiddleware(lambda context, logic: None)  # type: ignore[arg-type,return-value]


class Clock:
    """A service a bot registers for its turns."""


async def test_registered_services_are_in_turn_state_by_class_name_or_key() -> None:
    clock = Clock()
    middleware = MiddlewareSet().use(
        RegisterClassMiddleware(clock), RegisterClassMiddleware("settings", key="config")
    )
    seen: dict[str, object] = {}

    async def bot(context: TurnContext) -> None:
        seen.update(context.turn_state)

    await middleware.around(bot)(turn())
    assert seen[f"{__name__}.Clock"] is clock and seen["config"] == "settings"
    assert RegisterClassMiddleware.fullname(3) == "int"
