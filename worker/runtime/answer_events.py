"""The worker's side of a `deliveryMode: "stream"` request (`shared.protocol.answer_events`):
each activity the turn sends is appended to the request's events, fenced by the turn's entry,
and the gateway following the request is woken."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from shared.protocol.answer_events import (
    ACTIVITY,
    APPEND_SCRIPT,
    END,
    ERROR,
    INVOKE_RESPONSE,
    activity_data,
    invoke_response,
)
from shared.protocol.answers import Answer, wake_up
from shared.redis.connection import Redis
from shared.schema.activity import ResourceResponse
from worker.bot.streaming.channels import STREAM_INFO
from worker.bot.turn_commit import FencedWrite, TurnCommit


class TurnEvents:
    """The events of one `stream` request's turn (`worker.bot.reply_stream.ReplyStream`)."""

    def __init__(
        self, redis: Redis, channel: str, key: str, turn_commit: TurnCommit | None
    ) -> None:
        self._redis = redis
        self._channel = channel
        self._key = key
        self._commit = turn_commit
        self._wake_up = wake_up(key)
        self._chunks: dict[str, str] = {}
        """Stream id -> the entry of its latest chunk, which the next chunk or the final
        message supersedes (`shared.protocol.answer_events`)."""

    async def append(self, activity: dict[str, Any]) -> ResourceResponse:
        # The client sees each activity's id (a streamed answer's first update names its stream).
        activity_id = activity.get("id") or uuid.uuid4().hex
        activity["id"] = activity_id
        stream_type, stream_id = _stream_info(activity)
        superseded = ""
        if stream_id is not None and stream_type in ("streaming", "final"):
            superseded = self._chunks.pop(stream_id, "")
        entry_id = await self._append([ACTIVITY, activity_data(activity)], superseded)
        if stream_id is not None and stream_type == "streaming" and entry_id:
            self._chunks[stream_id] = entry_id
        return ResourceResponse(id=activity_id)

    async def end(self, answer: Answer | None) -> None:
        """The turn is over: its invoke's answer (None when it is not an invoke), then `end`."""
        events: list[bytes] = []
        if answer is not None:
            events += [INVOKE_RESPONSE, invoke_response(answer)]
        await self._append([*events, END, b"{}"])

    async def given_up(self, reason: str) -> None:
        """The turn will not end (its entry was dead-lettered): tell the client now rather than
        at its timeout. Not fenced: the entry is no longer pending with anyone."""
        self._commit = None
        message = f"the bot could not run this turn ({reason}); see the dead letters"
        error = orjson.dumps({"error": "turn_failed", "message": message})
        await self._append([ERROR, error])

    async def _append(self, events: list[bytes], superseded: str = "") -> str:
        """Append; the last event's entry id."""
        args: list[str | bytes | int] = [self._channel, self._wake_up, superseded, *events]
        if self._commit is None:  # a turn outside a worker (tests): nothing to fence by
            entry_id: Any = await self._redis.eval(APPEND_SCRIPT, 1, self._key, *args)
        else:  # raises TakenOver once fenced off
            write = FencedWrite(APPEND_SCRIPT, [self._key], args)
            (entry_id,) = await self._commit.write(self._redis, [write])
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id or "")


def _stream_info(activity: dict[str, Any]) -> tuple[str | None, str | None]:
    """The `streamType` and `streamId` of a streamed answer's update or final message."""
    for entity in activity.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == STREAM_INFO:
            stream_id = entity.get("streamId")
            return entity.get("streamType"), stream_id if isinstance(stream_id, str) else None
    return None, None
