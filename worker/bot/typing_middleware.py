"""ShowTypingMiddleware: keep a typing indicator up while a message turn runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from shared.schema.activity import Activity, ActivityTypes
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler

log = logging.getLogger(__name__)


class ShowTypingMiddleware:
    """Sends `typing` after `delay` seconds, then every `period` seconds until the turn ends.

    Channels drop a typing indicator after about 3 seconds, so `period` must stay below that.
    A fast turn sends nothing; typing never marks the turn as responded.
    """

    def __init__(self, delay: float = 0.5, period: float = 2.0) -> None:
        if delay < 0:
            raise ValueError("delay must not be negative")
        if not 0 < period <= 3:
            raise ValueError("period must be above 0 and at most 3 seconds")
        self.delay = delay
        self.period = period

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        if context.activity.type != ActivityTypes.MESSAGE:
            await logic()
            return
        indicator = asyncio.create_task(self._keep_typing(context))
        try:
            await logic()
        finally:
            indicator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await indicator

    async def _keep_typing(self, context: TurnContext) -> None:
        await asyncio.sleep(self.delay)
        reference = TurnContext.get_conversation_reference(context.activity)
        while True:
            typing = TurnContext.apply_conversation_reference(
                Activity(type=ActivityTypes.TYPING), reference
            )
            try:
                # Straight to the adapter: a typing indicator is not the bot's answer.
                await context.adapter.send_activities(context, [typing])
            except Exception as e:  # an indicator must never fail the turn
                log.warning("typing indicator not sent: %s", e)
            await asyncio.sleep(self.period)
