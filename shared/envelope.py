"""The envelope: the one versioned record that crosses from gateway to worker through Redis.

Version 1 carries the activity's JSON exactly as the channel sent it, when the gateway received
it, and the conversation key that chose its shard. The activity stays JSON (not re-encoded as
msgpack) so that the worker parses it with the same parser, and the same limits, that the gateway
validated it with: nothing the gateway acknowledged can be unreadable downstream. A worker refuses
an envelope version it does not know instead of guessing, so a rolling upgrade that changes the
version must roll workers before gateways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared import codec
from shared.errors import TurnstreamError

ENVELOPE_VERSION = 1


class EnvelopeError(TurnstreamError):
    """A stream entry does not hold an envelope this process can read."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """An inbound activity and what the gateway knew when it accepted it."""

    body: bytes
    """The activity as received: Bot Framework wire-format JSON (camelCase)."""
    conversation: str
    """`channelId/conversationId`: the unit of ordering and the shard key."""
    received_at: float
    """Gateway wall-clock time of receipt, seconds since the epoch."""

    def activity(self) -> dict[str, Any]:
        """The parsed activity (a dict: the gateway accepted nothing else)."""
        try:
            activity = orjson.loads(self.body)
        except orjson.JSONDecodeError as e:
            raise EnvelopeError(f"activity is not valid JSON: {e}") from e
        if not isinstance(activity, dict):
            raise EnvelopeError("activity is not a JSON object")
        return activity

    def encode(self) -> bytes:
        return codec.pack(
            {"v": ENVELOPE_VERSION, "a": self.body, "c": self.conversation, "t": self.received_at}
        )

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        try:
            doc = codec.unpack(data)
        except codec.DecodeError as e:
            raise EnvelopeError(str(e)) from e
        if not isinstance(doc, dict):
            raise EnvelopeError("envelope is not a map")
        version = doc.get("v")
        if version != ENVELOPE_VERSION:
            raise EnvelopeError(
                f"envelope version {version!r} is not supported (this process reads "
                f"{ENVELOPE_VERSION}); upgrade workers before gateways"
            )
        body, conversation, received_at = doc.get("a"), doc.get("c"), doc.get("t")
        if not isinstance(body, bytes) or not isinstance(conversation, str):
            raise EnvelopeError("envelope lacks its activity or conversation")
        if not isinstance(received_at, int | float):
            raise EnvelopeError("envelope lacks its receipt time")
        return cls(body=body, conversation=conversation, received_at=float(received_at))
