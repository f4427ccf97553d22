"""Inspection bot: an echo with two counters, one in user state and one in conversation
state, and the Emulator's inspection middleware, so a person can watch a conversation's
traffic and state from another one (`/INSPECT open` there, `/INSPECT attach <id>` here).

Run it with `turnstream dev --bot samples.inspection:bot`; on the chat page, open a second
conversation, type `/INSPECT open` in it, and paste the command it answers into the first.
"""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
    UserState,
)
from worker.bot.inspection import InspectionMiddleware, InspectionState


class CountingEcho(ActivityHandler):
    def __init__(self, user_state: UserState, conversation_state: ConversationState) -> None:
        self.user_count = user_state.create_property("count")
        self.conversation_count = conversation_state.create_property("count")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        user = await self.user_count.get(turn_context, 0) + 1
        conversation = await self.conversation_count.get(turn_context, 0) + 1
        await self.user_count.set(turn_context, user)
        await self.conversation_count.set(turn_context, conversation)
        await turn_context.send_activity(
            f"{user}/{conversation}: you said {turn_context.activity.text}"
        )


def create_app(storage: Storage) -> BotApp:
    user_state = UserState(storage)
    conversation_state = ConversationState(storage)
    inspection = InspectionMiddleware(InspectionState(storage), user_state, conversation_state)
    return BotApp(
        CountingEcho(user_state, conversation_state),
        # Inspection first: it sees the state after AutoSave has written it.
        middleware=[inspection, AutoSaveStateMiddleware(user_state, conversation_state)],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
