"""Core bot (the SDK's flight booking sample, without LUIS): dialogs with help and cancel.

Run it: `turnstream dev --bot samples.core_bot:bot`. The dialog stack lives in conversation
state in Redis, so each turn of a booking may run on a different worker.
"""

from __future__ import annotations

from samples.core_bot.bot import DialogAndWelcomeBot
from samples.core_bot.dialogs import MainDialog
from samples.core_bot.recognizer import KeywordRecognizer, Recognizer
from worker.bot import (
    AutoSaveStateMiddleware,
    BotApp,
    ConversationState,
    RedisStorage,
    Storage,
)


def create_app(storage: Storage, recognizer: Recognizer | None = None) -> BotApp:
    """The core bot over `storage`; pass another recognizer to plug in a real NLU service."""
    conversation_state = ConversationState(storage)
    dialog = MainDialog(recognizer or KeywordRecognizer())
    return BotApp(
        DialogAndWelcomeBot(conversation_state, dialog),
        middleware=[AutoSaveStateMiddleware(conversation_state)],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
