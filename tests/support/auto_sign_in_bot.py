"""An echo bot behind AutoSignInMiddleware (`--bot tests.support.auto_sign_in_bot:bot`): it
answers each message with the token it was run with."""

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
from worker.bot.dialogs import SIGNED_IN_TOKEN_KEY, AutoSignInMiddleware, OAuthPromptSettings


class SignedInEcho(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        token = turn_context.turn_state.get(SIGNED_IN_TOKEN_KEY)
        await turn_context.send_activity(
            f"{turn_context.activity.text} (as {token.token if token else None})"
        )


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        SignedInEcho(),
        middleware=[
            AutoSaveStateMiddleware(conversation_state),
            AutoSignInMiddleware(conversation_state, OAuthPromptSettings("graph", "Sign in")),
        ],
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
