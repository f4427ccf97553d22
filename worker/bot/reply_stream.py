"""Where the replies of a `deliveryMode: "stream"` turn go: to the gateway that answers the
request with server-sent events (`shared.protocol.answer_events`), instead of the connector.

The runtime puts one in the turn's state (`REPLY_STREAM_KEY`); the adapter hands it every
activity the turn sends, in order, with the same effectively-once journal as a connector post.
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.schema.activity import ResourceResponse

REPLY_STREAM_KEY = "turnstream.ReplyStream"
"""turn_state key of the turn's `ReplyStream` (absent: replies go to the connector)."""


class ReplyStream(Protocol):
    """Appends a turn's activities to its request's events (fenced by the turn's entry)."""

    async def append(self, activity: dict[str, Any]) -> ResourceResponse:
        """Append one activity (wire format); its id (made here if it has none) comes back.
        Raises `TakenOver` once the turn's entry belongs to another worker."""
        ...
