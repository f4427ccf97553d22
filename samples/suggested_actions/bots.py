"""Answers a colour and shows the colour buttons again after every message."""

from __future__ import annotations

from worker.bot import (
    ActionTypes,
    ActivityHandler,
    CardAction,
    ChannelAccount,
    MessageFactory,
    SuggestedActions,
    TurnContext,
)

COLOURS = {"red": "FF0000", "yellow": "FFFF00", "blue": "0000FF"}


class SuggestActionsBot(ActivityHandler):
    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self._send_welcome_message(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        answer = self._process_input((turn_context.activity.text or "").lower())
        await turn_context.send_activity(MessageFactory.text(answer))
        await self._send_suggested_actions(turn_context)

    async def _send_welcome_message(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        for member in activity.members_added or []:
            if member.id != bot_id:
                await turn_context.send_activity(
                    MessageFactory.text(
                        f"Welcome to SuggestedActionsBot {member.name}. This bot will "
                        "introduce you to suggestedActions. Please answer the question: "
                    )
                )
                await self._send_suggested_actions(turn_context)

    def _process_input(self, text: str) -> str:
        if text in COLOURS:
            return f"{text.capitalize()} is the best color, I agree."
        return "Please select a color from the suggested action choices"

    async def _send_suggested_actions(self, turn_context: TurnContext) -> None:
        # An imBack button posts its value back as if the user had typed it.
        reply = MessageFactory.text("What is your favorite color?")
        reply.suggested_actions = SuggestedActions(
            actions=[
                CardAction(
                    type=ActionTypes.im_back,
                    title=name.capitalize(),
                    value=name.capitalize(),
                    image=f"https://via.placeholder.com/20/{rgb}?text={name[0].upper()}",
                    image_alt_text=name[0].upper(),
                )
                for name, rgb in COLOURS.items()
            ]
        )
        await turn_context.send_activity(reply)
