"""The bot the chaos workers run: the counter sample, a little slower, plus poison.

"poison" fails the way an unreachable dependency does (a transient error), every time: it is
retried until the delivery limit and then dead-lettered, and its conversation moves on.
Every reply names the worker process that sent it (`channelData.pid`), so that the checker can
tell which duplicate replies a kill explains.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from samples.counter import CounterBot
from shared.schema.activity import Activity, ResourceResponse
from worker.bot import AutoSaveStateMiddleware, BotApp, ConversationState, RedisStorage, TurnContext

POISON = "poison"
TURN_SECONDS = 0.05
"""Time a turn holds its entry before replying: room for a kill to land mid-turn."""


class ChaosCounter(CounterBot):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == POISON:
            raise ConnectionResetError("poison: this turn can never succeed")
        await asyncio.sleep(TURN_SECONDS)
        turn_context.on_send_activities(_name_the_sender)
        await super().on_message_activity(turn_context)


async def _name_the_sender(
    _: TurnContext,
    activities: list[Activity],
    send: Callable[[], Awaitable[list[ResourceResponse]]],
) -> list[ResourceResponse]:
    for activity in activities:
        activity.channel_data = {"pid": os.getpid()}
    return await send()


def _create() -> BotApp:
    conversation_state = ConversationState(RedisStorage())
    return BotApp(
        ChaosCounter(conversation_state),
        middleware=[AutoSaveStateMiddleware(conversation_state)],
        conversation_state=conversation_state,
    )


bot = _create()
