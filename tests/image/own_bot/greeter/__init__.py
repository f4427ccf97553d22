"""A bot of one's own, shipped in an image built FROM turnstream's (tests/image/own_bot)."""

from __future__ import annotations

from worker.bot import ActivityHandler, TurnContext


class GreeterBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(f"Greeter heard: {turn_context.activity.text or ''}")


bot = GreeterBot()
