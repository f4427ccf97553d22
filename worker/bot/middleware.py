"""Middleware: code that runs around every turn, `on_turn(context, logic)`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler, TurnHandler


@runtime_checkable
class Middleware(Protocol):
    """Call `await logic()` to run the rest of the turn (later middleware, then the bot);
    skip it to end the turn here."""

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None: ...


class MiddlewareSet:
    """An ordered list of middleware. `use(a, b, c)` registers all three (botbuilder-python's
    registers only the first)."""

    def __init__(self) -> None:
        self._middleware: list[Middleware] = []

    def use(self, *middleware: Middleware) -> MiddlewareSet:
        for item in middleware:
            if not isinstance(item, Middleware):
                raise TypeError(
                    f"{item!r} is not middleware: it needs async on_turn(context, logic)"
                )
        self._middleware.extend(middleware)
        return self

    def __len__(self) -> int:
        return len(self._middleware)

    def around(self, handler: TurnHandler) -> TurnHandler:
        """The whole chain ending in `handler`, built once by folding the list."""
        return build_chain(self._middleware, handler)


def build_chain(middleware: Sequence[Middleware], handler: TurnHandler) -> TurnHandler:
    chain = handler
    for item in reversed(middleware):
        chain = _link(item, chain)
    return chain


def _link(middleware: Middleware, following: TurnHandler) -> TurnHandler:
    async def run(context: TurnContext) -> None:
        async def logic() -> None:
            await following(context)

        await middleware.on_turn(context, logic)

    return run
