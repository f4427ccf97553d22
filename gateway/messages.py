"""`POST /api/messages`: the Bot Framework messaging endpoint.

Written as a plain ASGI app rather than a Starlette request/response endpoint because it is the
one hot path: every activity of every channel passes here (see docs/benchmarks.md).
"""

from __future__ import annotations

import time

from starlette.types import Receive, Scope, Send

from gateway.activity_check import BadActivity, parse_activity
from gateway.enqueue import Enqueuer, Unavailable
from gateway.responses import send_empty, send_error
from shared.envelope import Envelope
from shared.keys import Keyspace


class MessagesEndpoint:
    """Check the activity, enqueue it on its conversation's shard, answer 202 once Redis has it."""

    def __init__(self, keys: Keyspace, *, max_body_bytes: int, retry_after_seconds: int) -> None:
        self._keys = keys
        self._max_body = max_body_bytes
        self._retry_after = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = b""
        declared_length = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared_length = value
        if not _is_json(content_type):
            return await send_error(
                send, 415, "unsupported_media_type", "send the activity as application/json"
            )
        if declared_length.isdigit() and int(declared_length) > self._max_body:
            return await self._too_large(send)
        body = await _read_body(receive, self._max_body)
        if body is None:
            return await self._too_large(send)
        try:
            conversation, activity_id = parse_activity(body)
        except BadActivity as e:
            return await send_error(send, 400, "bad_activity", str(e))
        envelope = Envelope(body, conversation, time.time()).encode()

        state = scope["state"]
        if state["backlog"].over:
            return await send_error(
                send,
                503,
                "backlog",
                "the bot is behind on its work; retry later",
                retry_after=self._retry_after,
            )
        enqueuer: Enqueuer = state["enqueuer"]
        shard = self._keys.shard_of(conversation)
        keys = self._keys
        try:
            await enqueuer.enqueue(
                keys.stream(shard),
                keys.seen(shard, conversation, activity_id),
                keys.last(shard, conversation),
                envelope,
                dedupe=bool(activity_id),
            )
        except Unavailable as e:
            return await send_error(
                send, 503, "unavailable", f"{e}; retry later", retry_after=self._retry_after
            )
        # A duplicate id (None above) is answered the same way: the first copy is queued.
        await send_empty(send, 202)

    async def _too_large(self, send: Send) -> None:
        await send_error(send, 413, "too_large", f"activity is larger than {self._max_body} bytes")


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # client went away; nothing to answer
            return b""
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
