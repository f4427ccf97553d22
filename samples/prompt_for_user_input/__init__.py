"""Prompt for user input (the SDK's 44.prompt-for-user-input sample, ported): no dialogs: the
bot asks for a name, an age and a flight date itself, remembering which question it asked
last (an `Enum` member in conversation state) and the answers (a `UserProfile` in user state).

Run it: `turnstream dev --bot samples.prompt_for_user_input:bot`.

Ported from botbuilder by changing imports, and the two validators that call Microsoft's
Recognizers-Text packages (`recognizers_number.recognize_number`,
`recognizers_date_time.recognize_datetime`, which botbuilder-dialogs installs) call the
recognizers turnstream's prompts use instead (`worker.bot.dialogs.choices.recognize_number`,
`worker.bot.dialogs.prompts.recognize_datetime`): another result shape, same decisions.
"""

from __future__ import annotations

from samples.prompt_for_user_input.bots import CustomPromptBot
from worker.bot import BotApp, ConversationState, RedisStorage, Storage, UserState


def create_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        CustomPromptBot(conversation_state, UserState(storage)),
        conversation_state=conversation_state,
    )


bot = create_app(RedisStorage())
