"""Complex dialog (the SDK's 43.complex-dialog sample, ported): a main dialog runs a top-level
dialog (name, age) that runs a review-selection dialog which replaces itself until two
companies are chosen or the user says done. The profile is built in a waterfall's `values`
as a `UserProfile` object and stored in user state at the end: it comes back as that object
on whichever worker takes the next turn.

Run it: `turnstream dev --bot samples.complex_dialog:bot`.

Ported from botbuilder by changing imports; its app.py becomes create_app below.
"""

from __future__ import annotations

from samples.complex_dialog.bots import DialogAndWelcomeBot
from samples.complex_dialog.dialogs import MainDialog
from worker.bot import BotApp, ConversationState, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    user_state = UserState(storage)
    return BotApp(
        DialogAndWelcomeBot(conversation_state, user_state, MainDialog(user_state)),
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
