"""The chaos counter written the way botbuilder's samples write bots: no AutoSave middleware, the
bot saves its own state at the end of `on_turn` (user state, then conversation state, which
holds the count). With TURNSTREAM_CHAOS_FREEZE_SHARE set, a turn stops its own worker process
(SIGSTOP) at a random point — as the turn starts, between its reply and its saves, between its
two saves — so that a stall lands exactly there; the chaos run resumes it after one to three
claim timeouts (tests/chaos/explicit.py). One process is stopped at a time (a lock in Redis).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal

from tests.chaos.bot import POISON, TURN_SECONDS, _name_the_sender
from worker.bot import (
    ActivityHandler,
    BotApp,
    ConversationState,
    RedisStorage,
    TurnContext,
    UserState,
)
from worker.bot.lazy_redis import LazyRedis

FREEZE_LOCK = "chaos:freeze"
"""Under the key prefix: the pid and point of the process stopped now (the run deletes it)."""
POINTS = ("turn start", "after the reply", "between the saves")


class ExplicitSaveCounter(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, user_state: UserState) -> None:
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.count = conversation_state.create_property("count")
        self.seen = user_state.create_property("seen")
        self._share = float(os.environ.get("TURNSTREAM_CHAOS_FREEZE_SHARE", "0"))
        self._redis = LazyRedis()

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self._maybe_freeze(0)
        await super().on_turn(turn_context)
        await self._maybe_freeze(1)
        await self.user_state.save_changes(turn_context)
        await self._maybe_freeze(2)
        await self.conversation_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == POISON:
            raise ConnectionResetError("poison: this turn can never succeed")
        await asyncio.sleep(TURN_SECONDS)
        count = await self.count.get(turn_context, 0) + 1
        await self.count.set(turn_context, count)
        await self.seen.set(turn_context, await self.seen.get(turn_context, 0) + 1)
        turn_context.on_send_activities(_name_the_sender)
        await turn_context.send_activity(str(count))

    async def _maybe_freeze(self, point: int) -> None:
        if not self._share or random.random() >= self._share / len(POINTS):
            return
        key = f"{self._redis.keys().prefix}:{FREEZE_LOCK}"
        if await self._redis.client().set(key, f"{os.getpid()} {POINTS[point]}", nx=True, ex=60):
            os.kill(os.getpid(), signal.SIGSTOP)


def _create() -> BotApp:
    storage = RedisStorage()
    conversation_state = ConversationState(storage)
    return BotApp(
        ExplicitSaveCounter(conversation_state, UserState(storage)),
        conversation_state=conversation_state,
    )


bot = _create()
