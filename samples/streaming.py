"""Streaming bot: answers every message word by word, as a bot calling a language model does,
with a fake model (a canned answer, a pause between words, no network).

On Teams, Web Chat and Direct Line the user sees the answer grow (`turnstream dev` shows the
final message); elsewhere it comes whole. When the user presses Stop, the loop below is
cancelled where it waits for the next word: a real bot stops paying for tokens nobody reads.

    turnstream dev --bot samples.streaming:bot
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from worker.bot import ActivityHandler, TurnContext

log = logging.getLogger(__name__)

ANSWER = (
    "Streaming lets a bot show its answer while it is still being written. The channel "
    "receives the text so far about once a second, replaces what it showed with each update, "
    "and turns the last one into an ordinary message that stays in the conversation. A user "
    "who has read enough presses Stop; the bot hears of it at once and stops producing, so no "
    "more tokens are paid for an answer nobody reads. Because turnstream acknowledges every "
    "activity before the bot runs, an answer may take a minute to write without the channel "
    "giving up on the bot or sending the question a second time."
)
WORD_SECONDS = 0.075
"""The fake model's pause before each word: the answer takes about six seconds."""


async def fake_model(question: str) -> AsyncIterator[str]:
    """Yields the canned answer a word at a time, as a model's streaming API yields tokens."""
    for n, word in enumerate(ANSWER.split(" ")):
        await asyncio.sleep(WORD_SECONDS)
        yield f" {word}" if n else word


class StreamingBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        stream = turn_context.streaming_response
        stream.queue_informative_update("Thinking about it...")
        stream.set_generated_by_ai_label(True)
        stream.set_feedback_loop(True)
        try:
            async for token in fake_model(turn_context.activity.text or ""):
                stream.queue_text_chunk(token)
        except asyncio.CancelledError:
            # Raised here when the user pressed Stop: let it go on, the turn ends cleanly.
            log.info("answer stopped by the user after %d characters", len(stream.get_message()))
            raise
        await stream.end_stream()


bot = StreamingBot()
