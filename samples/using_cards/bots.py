"""RichCardsBot: the multi-turn DialogBot plus a welcome for whoever joins."""

from __future__ import annotations

from samples.dialog_bot import DialogBot
from worker.bot import ChannelAccount, MessageFactory, TurnContext


class RichCardsBot(DialogBot):
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                await turn_context.send_activity(
                    MessageFactory.text(
                        "Welcome to CardBot. This bot will show you different types of Rich "
                        "Cards. Please type anything to get started."
                    )
                )
