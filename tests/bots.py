"""Small bots the tests run, also by name in worker subprocesses (`--bot tests.bots:slow`)."""

from __future__ import annotations

import asyncio

from worker.bot import ActivityHandler, TurnContext


class SlowEcho(ActivityHandler):
    """Echoes after a pause given in the text (`sleep:2.5`), to hold a turn in flight."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        if text.startswith("sleep:"):
            await asyncio.sleep(float(text.split(":", 1)[1]))
        await turn_context.send_activity(f"done {text}")


class Failing(ActivityHandler):
    """Raises on "boom", echoes anything else."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == "boom":
            raise RuntimeError("boom")
        await turn_context.send_activity(f"ok {turn_context.activity.text}")


slow = SlowEcho()
failing = Failing()
