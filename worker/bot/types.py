"""The callable shapes the bot-author API is built from, named once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from worker.bot.turn_context import TurnContext


class Bot(Protocol):
    """Anything with `on_turn(turn_context)`: an ActivityHandler, or your own class."""

    async def on_turn(self, turn_context: TurnContext) -> None: ...


TurnHandler = Callable[["TurnContext"], Awaitable[None]]
"""A coroutine function that handles one turn."""

ProactiveCallback = Callable[["TurnContext"], Awaitable[object]]
"""What `continue_conversation` runs in the proactive turn: anything called with the turn's
context that returns an awaitable (a coroutine function, or a lambda returning
`turn_context.send_activity(...)` as the SDK's samples write it)."""

NextHandler = Callable[[], Awaitable[None]]
"""What middleware calls to run the rest of the turn."""

OnTurnError = Callable[["TurnContext", Exception], Awaitable[None]]
"""Called with the turn's context when the bot raised; see `worker.bot.adapter`."""
