"""BotApp: a bot plus what the SDK configures on its adapter, in one object `--bot` can name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from worker.bot.adapter import ClearableState
from worker.bot.middleware import Middleware
from worker.bot.routes import BotRoute, check_routes
from worker.bot.types import Bot, OnTurnError


@dataclass(frozen=True)
class BotApp:
    """Where a botbuilder app calls `adapter.use(...)` and sets `adapter.on_turn_error`, a
    turnstream bot module exposes a BotApp (the worker builds the adapter):

        bot = BotApp(MyBot(conversation_state, user_state),
                     middleware=[AutoSaveStateMiddleware(conversation_state, user_state)],
                     conversation_state=conversation_state)

    `conversation_state` is what the default on_turn_error clears after a bot error.
    `routes` are the bot's own HTTP routes, served by the gateway (`worker.bot.routes`), where
    a botbuilder app adds routes to its aiohttp app.
    """

    bot: Bot
    middleware: Sequence[Middleware] = ()
    on_turn_error: OnTurnError | None = None
    conversation_state: ClearableState | None = None
    routes: Sequence[BotRoute] = ()

    def __post_init__(self) -> None:
        check_routes(self.routes)

    @classmethod
    def of(cls, target: Bot | BotApp) -> BotApp:
        """A BotApp as given, or a plain bot wrapped in one with the defaults."""
        return target if isinstance(target, BotApp) else cls(target)
