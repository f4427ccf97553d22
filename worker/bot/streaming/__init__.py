"""Streaming answers: `turn_context.streaming_response`, with the Microsoft 365 Agents SDK's
names (`queue_informative_update`, `queue_text_chunk`, `end_stream`, ...), so its bots port.

On the wire it is the streaming protocol of the Bot Framework channels (Teams, Web Chat, Direct
Line): progress notes and the answer so far go out as `typing` activities carrying a
`streaminfo` entity (`streamType` informative or streaming, `streamSequence` 1, 2, ...; a chunk
holds the whole text so far, never a delta), and the answer ends as a `message` with
`streamType: final`. The first send's id names the stream (`streamId`) for every later one.

Chunks are coalesced: however fast the bot queues text, at most one chunk waits, and it takes
the text as it stands when its turn to go comes; sends are paced per channel (Teams 1 s, Web
Chat and Direct Line 0.5 s). A chunk is never sent again after a failure: the next one carries
all of its text. A channel that does not stream gets the final message only.

When the user presses Stop, the channel refuses the next chunk (Teams: 403
`ContentStreamNotAllowed`): the task that queued the text (the bot's code, typically awaiting
the model) is cancelled, and the turn ends cleanly, with nothing more sent. docs/streaming.md
tells the whole story, docs/decisions/0020-streaming-answers.md why it is built this way.
"""

from __future__ import annotations

from worker.bot.streaming.ai_content import Citation, SensitivityUsageInfo
from worker.bot.streaming.channels import SEND_INTERVALS
from worker.bot.streaming.response import (
    STREAMING_RESPONSE_KEY,
    StreamingResponse,
    run_streamed,
)

__all__ = [
    "SEND_INTERVALS",
    "STREAMING_RESPONSE_KEY",
    "Citation",
    "SensitivityUsageInfo",
    "StreamingResponse",
    "run_streamed",
]
