"""Small bots the tests run, also by name in worker subprocesses
(`--bot tests.support.bots:slow`)."""

from __future__ import annotations

import asyncio
import datetime
import os
import signal

from samples.core_bot import create_app as create_core_bot
from samples.core_bot.recognizer import KeywordRecognizer, RecognizerResult
from worker.bot import (
    ActivityHandler,
    AutoSaveStateMiddleware,
    BotApp,
    BotState,
    ConversationState,
    RedisStorage,
    Storage,
    TurnContext,
    UserState,
)


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


class KillsItsWorker(ActivityHandler):
    """ "crash" kills the worker process running the turn (kill -9, as a crash in native code
    would), before it can reply or fail; anything else is echoed."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if turn_context.activity.text == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        await turn_context.send_activity(f"ok {turn_context.activity.text}")


slow = SlowEcho()
failing = Failing()
kills_its_worker = KillsItsWorker()


class Counter(ActivityHandler):
    """Counts a user's messages in user state, slowly enough for concurrent turns to collide."""

    def __init__(self, state: BotState) -> None:
        self.count = state.create_property("count")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        value = await self.count.get(turn_context, 0)
        await asyncio.sleep(0.02)
        await self.count.set(turn_context, value + 1)
        await turn_context.send_activity(f"count {value + 1}")


def counter_app(storage: Storage) -> BotApp:
    user_state = UserState(storage)
    return BotApp(Counter(user_state), middleware=[AutoSaveStateMiddleware(user_state)])


counter = counter_app(RedisStorage())


class CrashingRecognizer(KeywordRecognizer):
    """The core bot's recognizer, with a bug on purpose: "crash" raises inside a dialog step."""

    def recognize(self, text: str, now: datetime.datetime | None = None) -> RecognizerResult:
        if text.strip().lower() == "crash":
            raise RuntimeError("injected failure in a dialog step")
        return super().recognize(text, now)


crashing_core_bot = create_core_bot(RedisStorage(), CrashingRecognizer())


class SlowCounter(Counter):
    """The counter, but a message starting with "slow" holds its turn for 3 s before replying."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        if (turn_context.activity.text or "").startswith("slow"):
            await asyncio.sleep(3)
        await super().on_message_activity(turn_context)


def slow_counter_app(storage: Storage) -> BotApp:
    conversation_state = ConversationState(storage)
    return BotApp(
        SlowCounter(conversation_state),
        middleware=[AutoSaveStateMiddleware(conversation_state)],
    )


slow_counter = slow_counter_app(RedisStorage())


class ThreeParts(ActivityHandler):
    """Sends two replies, pauses 3 s (a worker can be killed there), then a third reply naming
    the resource ids the first two sends returned."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        first = await turn_context.send_activity("part 1")
        second = await turn_context.send_activity("part 2")
        await asyncio.sleep(3)
        ids = [response.id if response else None for response in (first, second)]
        await turn_context.send_activity(f"part 3 after {ids[0]},{ids[1]}")


three_parts = ThreeParts()
