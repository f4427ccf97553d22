"""Multi-turn prompt (the SDK's 05.multi-turn-prompt sample, ported): a waterfall that asks
for a mode of transport (choice), a name (text), whether to give an age (confirm), the age
(number, validated), a profile picture (attachment, validated), then shows the profile and
asks to keep it. The dialog stack and the profile live in Redis, so each answer may be taken
by another worker.

Run it: `turnstream dev --bot samples.multi_turn_prompt:bot`.

Ported from botbuilder by changing imports; its app.py becomes create_app below (the sample's
on_error, which also deletes the conversation state, is BotApp's default given
`conversation_state`).
"""

from __future__ import annotations

from samples.dialog_bot import DialogBot
from samples.multi_turn_prompt.dialogs import UserProfileDialog
from worker.bot import BotApp, ConversationState, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    user_state = UserState(storage)
    dialog = UserProfileDialog(user_state)
    return BotApp(
        DialogBot(conversation_state, user_state, dialog), conversation_state=conversation_state
    )


bot = create_app(RedisStorage())
