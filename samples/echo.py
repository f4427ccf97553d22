"""Echo bot: repeats each message and welcomes everyone who joins (except itself)."""

from __future__ import annotations

from worker.bot import ActivityHandler, ChannelAccount, TurnContext


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"Echo: {turn_context.activity.text or ''}")

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                await turn_context.send_activity(f"welcome {member.name or member.id}")


bot = EchoBot()
