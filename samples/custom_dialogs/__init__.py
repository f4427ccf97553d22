"""Custom dialogs (the SDK's 19.custom-dialogs sample, ported): SlotFillingDialog, a Dialog
subclass of the bot's own, fills named slots one prompt at a time (a slot may itself be a
slot-filling dialog: full name, address) and keeps its progress in its own dialog state, so
each answer may be taken by another worker.

Run it: `turnstream dev --bot samples.custom_dialogs:bot`.

Ported from botbuilder by changing imports, and one more line: the sample names the number
prompts' locale with `recognizers_text.Culture.English`, from Microsoft's Recognizers-Text
package that botbuilder-dialogs installs; here it is the culture string itself, "en-us".
"""

from __future__ import annotations

from samples.custom_dialogs.dialogs import RootDialog
from samples.dialog_bot import DialogBot
from worker.bot import BotApp, ConversationState, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    user_state = UserState(storage)
    return BotApp(DialogBot(ConversationState(storage), user_state, RootDialog(user_state)))


bot = create_app(RedisStorage())
