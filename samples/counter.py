"""Counter bot: replies `n` to the n-th message of a conversation, with `n` in conversation
state. The probe of the delivery tests: a lost turn, a turn run twice or two turns out of order
all show up as a reply sequence other than 1, 2, 3, ..."""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
)


class CounterBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState) -> None:
        self.count = conversation_state.create_property("count")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        n = await self.count.get(turn_context, 0) + 1
        await self.count.set(turn_context, n)
        await turn_context.send_activity(str(n))


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        CounterBot(conversation_state),
        middleware=[AutoSaveStateMiddleware(conversation_state)],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
