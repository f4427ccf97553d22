"""AutoSaveStateMiddleware: load every state before the turn in one round trip, save after."""

from __future__ import annotations

from collections.abc import Sequence

from worker.bot.state import BotState, BotStateSet
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler


class AutoSaveStateMiddleware:
    """Loads the given states before the turn (one storage read for all of them) and saves what
    the turn changed after it (one write). A save that finds the state changed by another turn
    raises EtagConflict, and the adapter runs the turn again on fresh state.

    The save commits the turn: on RedisStorage it also acknowledges the turn's stream entry in
    the same atomic script. Put this middleware first in the list (outermost), so everything the
    other middleware and the bot do has happened before the turn is acknowledged.
    """

    def __init__(self, *states: BotState | Sequence[BotState]) -> None:
        """`AutoSaveStateMiddleware(a, b)` or, as botbuilder writes it, `([a, b])`."""
        self.bot_state_set = BotStateSet(*states)

    def add(self, state: BotState) -> AutoSaveStateMiddleware:
        self.bot_state_set.add(state)
        return self

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        await self.bot_state_set.load_all(context)
        await logic()
        await self.bot_state_set.save_all_changes(context, commit_turn=True)
