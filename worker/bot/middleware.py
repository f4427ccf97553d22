"""Middleware: code that runs around every turn, `on_turn(context, logic)`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler, TurnHandler


@runtime_checkable
class Middleware(Protocol):
    """Call `await logic()` to run the rest of the turn (later middleware, then the bot);
    skip it to end the turn here."""

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None: ...


class MiddlewareSet:
    """An ordered list of middleware. `use(a, b, c)` registers all three (botbuilder-python's
    registers only the first). A set is middleware itself: `other.use(a_set)` nests it."""

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

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        """As middleware: run this set's chain, then the rest of the turn."""
        await self.receive_activity(context)
        await logic()

    async def receive_activity(self, context: TurnContext) -> None:
        """Run the chain for `context`, with nothing at its end."""
        await self.receive_activity_internal(context, None)

    async def receive_activity_with_status(
        self, context: TurnContext, callback: Callable[[TurnContext], Awaitable[Any]] | None
    ) -> Any:
        """Run the chain, then `callback` (if every middleware called on); return what the
        callback returned, or None when a middleware ended the turn before it."""
        return await self.receive_activity_internal(context, callback)

    async def receive_activity_internal(
        self,
        context: TurnContext,
        callback: Callable[[TurnContext], Awaitable[Any]] | None,
        next_middleware_index: int = 0,
    ) -> Any:
        """Run the chain from its `next_middleware_index`-th middleware, then `callback`."""
        result: Any = None

        async def finish(turn_context: TurnContext) -> None:
            nonlocal result
            if callback is not None:
                result = await callback(turn_context)

        await build_chain(self._middleware[next_middleware_index:], finish)(context)
        return result


class AnonymousReceiveMiddleware:
    """Middleware from a coroutine function `handler(context, logic)`, for middleware that
    needs no class of its own."""

    def __init__(self, anonymous_handler: Callable[[TurnContext, NextHandler], Awaitable[Any]]):
        if not inspect.iscoroutinefunction(anonymous_handler):
            raise TypeError(
                "AnonymousReceiveMiddleware takes a coroutine function handler(context, logic)"
            )
        self._handler = anonymous_handler

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        await self._handler(context, logic)


class RegisterClassMiddleware:
    """Puts `service` in every turn's `turn_state`, under `key` or else its class's full name
    (`module.ClassName`; builtins by their name), for the bot's code to take it from there."""

    def __init__(self, service: Any, key: str | None = None) -> None:
        self.service = service
        self._key = key

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        context.turn_state[self._key or self.fullname(self.service)] = self.service
        await logic()

    @staticmethod
    def fullname(obj: Any) -> str:
        cls = type(obj)
        return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


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
