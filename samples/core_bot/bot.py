"""The core bot: runs MainDialog on every message and welcomes new members with a card."""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    CardFactory,
    ChannelAccount,
    ConversationState,
    MessageFactory,
    TurnContext,
)
from worker.bot.dialogs import Dialog, run_dialog

WELCOME_CARD = {
    "type": "AdaptiveCard",
    "version": "1.4",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "body": [
        {
            "type": "TextBlock",
            "size": "Medium",
            "weight": "Bolder",
            "text": "Welcome to the core bot",
        },
        {
            "type": "TextBlock",
            "wrap": True,
            "text": 'I book flights. Try "book a flight from Paris to Berlin tomorrow", '
            'or say "help".',
        },
    ],
}


class DialogAndWelcomeBot(ActivityHandler):
    def __init__(self, conversation_state: ConversationState, dialog: Dialog) -> None:
        self.dialog = dialog
        self.dialog_state = conversation_state.create_property("DialogState")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await run_dialog(self.dialog, turn_context, self.dialog_state)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                card = CardFactory.adaptive_card(WELCOME_CARD)
                await turn_context.send_activity(MessageFactory.attachment(card))
