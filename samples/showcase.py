"""Showcase bot for the dev chat page: an echo with suggested actions, a hero card, a menu.

Every echo offers two suggested actions; "show a card" answers with a hero card, "pick a
color" with three color buttons. Run it with `turnstream dev --bot samples.showcase:bot`.
"""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    CardAction,
    CardFactory,
    ChannelAccount,
    HeroCard,
    MessageFactory,
    TurnContext,
)

MENU = ["show a card", "pick a color"]
COLORS = ["red", "green", "blue"]


class ShowcaseBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = (turn_context.activity.text or "").strip()
        if text.lower() == "show a card":
            card = HeroCard(
                title="turnstream",
                subtitle="Bot Framework bots at scale",
                text="A gateway, Redis Streams and stateless workers.",
                buttons=[
                    CardAction(type="imBack", title="pick a color", value="pick a color"),
                    CardAction(
                        type="openUrl", title="Bot Framework", value="https://dev.botframework.com"
                    ),
                ],
            )
            await turn_context.send_activity(MessageFactory.attachment(CardFactory.hero_card(card)))
        elif text.lower() == "pick a color":
            await turn_context.send_activity(
                MessageFactory.suggested_actions(COLORS, "Which color do you like?")
            )
        elif text.lower() in COLORS:
            await turn_context.send_activity(f"You picked {text.lower()}.")
        else:
            await turn_context.send_activity(
                MessageFactory.suggested_actions(MENU, f"Echo: {text}")
            )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                await turn_context.send_activity(
                    MessageFactory.suggested_actions(MENU, f"welcome {member.name or member.id}")
                )


bot = ShowcaseBot()
