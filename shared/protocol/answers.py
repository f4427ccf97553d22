"""Answers for requests that wait for their turn (the request/reply lane).

An `invoke` must be answered with the bot's InvokeResponse, and `deliveryMode: expectReplies`
with the turn's replies, in the HTTP response itself. The gateway queues such an activity like
any other, marks the envelope with a request id, and waits; the worker that runs the turn stores
the answer under the request's key (kept for ANSWER_TTL_SECONDS, so a channel's retry of the same
invoke gets it instead of a second turn) and publishes it on the deployment's answers channel,
where every gateway process listens with one subscription.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import TurnstreamError
from shared.protocol import codec

ANSWER_TTL_SECONDS = 600
"""How long an answer outlives its turn: longer than channels retry an invoke, and as long as
the default dedupe window (a retry inside the window is not queued again, so it needs the
stored answer)."""

EXPECT_REPLIES = "expectReplies"
"""The `deliveryMode` whose replies go back in the HTTP response instead of to the connector."""

STREAM = "stream"
"""The `deliveryMode` whose replies go back as server-sent events, as the turn sends them
(`shared.protocol.answer_events`)."""


class AnswerError(TurnstreamError):
    """Stored or published bytes are not an answer."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP status and body a waiting request is answered with."""

    status: int
    body: bytes | None = None
    """JSON (unless `content_type` says otherwise), or None for an empty body."""
    content_type: str | None = None
    """The body's media type when it is not JSON (a bot route's answer)."""

    def encode(self) -> bytes:
        doc: dict[str, object] = {"s": self.status, "b": self.body}
        if self.content_type is not None:
            doc["t"] = self.content_type
        return codec.pack(doc)

    @classmethod
    def decode(cls, data: bytes) -> Answer:
        try:
            doc = codec.unpack(data)
        except codec.DecodeError as e:
            raise AnswerError(str(e)) from e
        if not isinstance(doc, dict):
            raise AnswerError("an answer is a map")
        status, body = doc.get("s"), doc.get("b")
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise AnswerError(f"an answer's status must be an HTTP status, not {status!r}")
        if body is not None and not isinstance(body, bytes):
            raise AnswerError("an answer's body must be bytes")
        content_type = doc.get("t")
        if content_type is not None and not isinstance(content_type, str):
            raise AnswerError("an answer's content type must be a string")
        return cls(status, body, content_type)


def publication(key: str, answer: Answer) -> bytes:
    """What a worker publishes on the answers channel: the request's key and its answer."""
    return codec.pack([key, answer.encode()])


def wake_up(key: str) -> bytes:
    """What a worker publishes when it appended events under `key` (a `stream` request's): the
    key alone. The events themselves are read from Redis by the one gateway that follows them,
    not broadcast to every gateway."""
    return codec.pack([key])


def read_publication(data: bytes) -> tuple[str, Answer | None]:
    """The key and its answer, or None for a wake-up (`wake_up`)."""
    try:
        doc = codec.unpack(data)
    except codec.DecodeError as e:
        raise AnswerError(str(e)) from e
    if isinstance(doc, list) and len(doc) == 1 and isinstance(doc[0], str):
        return doc[0], None
    if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], str)):
        raise AnswerError("a publication is [key, answer] or [key]")
    if not isinstance(doc[1], bytes):
        raise AnswerError("a publication's answer must be bytes")
    return doc[0], Answer.decode(doc[1])
