"""The bot to aim `turnstream loadtest --workload streaming` at: a fake model that streams its
answer for as long as each message asks (`value.streamSeconds`, the load test's
`--turn-seconds`), a word every `WORD_SECONDS`, as a bot awaiting a language model does.

    TURNSTREAM_WORKER_CONCURRENCY=1000 turnstream dev --bot turnstream.loadtest.streaming_bot:bot
    turnstream loadtest --workload streaming --turn-seconds 30 --rate 20 --duration 10 \\
        --conversations 100

It costs what a real model's bot costs the runtime (a coroutine per turn waking per token, an
update per channel pace) without a model: the load is the runtime's, not the model's.
"""

from __future__ import annotations

import asyncio
import math
import time

from worker.bot import ActivityHandler, TurnContext

DEFAULT_SECONDS = 30.0
"""The answer's length when the message does not say (the issue's "30-second turns")."""
MAX_SECONDS = 600.0
WORD_SECONDS = 0.05
"""The fake model's pause before each word: 20 tokens a second, a common model's pace."""


def stream_seconds(value: object) -> float:
    """How long the message asks the answer to stream, within [0, MAX_SECONDS]; the default
    when it asks for no number."""
    seconds = value.get("streamSeconds") if isinstance(value, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return DEFAULT_SECONDS
    if not math.isfinite(seconds):
        return DEFAULT_SECONDS if math.isnan(seconds) else MAX_SECONDS
    return min(max(float(seconds), 0.0), MAX_SECONDS)


class StreamingLoadBot(ActivityHandler):
    """Streams "word word word ..." for the asked time, then ends the stream."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        seconds = stream_seconds(turn_context.activity.value)
        stream = turn_context.streaming_response
        stream.queue_informative_update("Thinking...")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(WORD_SECONDS)
            stream.queue_text_chunk(" word" if stream.get_message() else "word")
        await stream.end_stream()


bot = StreamingLoadBot()
