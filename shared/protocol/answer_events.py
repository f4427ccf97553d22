"""Events of a `deliveryMode: "stream"` request: the turn's activities as it sends them.

The gateway queues the activity like any other and answers with server-sent events. The worker
running the turn appends each activity it sends (a reply, a streamed answer's informative update,
chunk or final message) to a short-lived Redis stream of the request's own
(`Keyspace.answer_events`, in the shard's slot), then an `invokeResponse` (for an invoke) and
`end`; each append publishes a wake-up (`answers.wake_up`, the key alone) on the answers channel
every gateway already listens on. The gateway following the request reads what is new from the
stream, after the last entry it relayed.

A streamed answer's chunk carries the whole text so far, so it supersedes the chunk before it:
the append deletes that one (and the final message deletes the last chunk). A gateway reading
as events come loses nothing it would show; one that lags, or a retry reading later, gets the
answer as it stands instead of every step of it, and the stored events of a streamed answer stay
about the size of the answer rather than growing with the square of its length.

Why a stream and not the publications themselves: the stream gives the order (entry ids), lets a
gateway whose subscription dropped read what it missed, and lets a retried request (same
activity id) read the events of the turn that already ran, for EVENTS_TTL_SECONDS. The wake-up
carries no data, so a long answer's cumulative chunks reach the one gateway that follows them,
not every gateway process.
"""

from __future__ import annotations

import orjson

from shared.protocol.answers import ANSWER_TTL_SECONDS, Answer

EVENTS_TTL_SECONDS = ANSWER_TTL_SECONDS
"""How long a request's events outlive its last append: as long as a stored answer, so a retry
inside the dedupe window (which is not queued again) reads them."""

MAX_EVENTS = 2000
"""A request's stream is trimmed (approximately) to this many events: a runaway turn cannot grow
Redis without bound. A streamed answer at the gateway's pace sends 4 updates a second: 8 minutes."""

ACTIVITY = b"activity"
"""An activity the turn sent; its data is the activity's JSON."""
INVOKE_RESPONSE = b"invokeResponse"
"""The answer of an invoke: `{"status": ..., "body": ...}`."""
END = b"end"
"""The turn is over: nothing follows. Its data is `{}`."""
ERROR = b"error"
"""The turn will not end: `{"error": code, "message": ...}` (a worker gave it up, a dead letter;
the gateway's own `stream_timeout` has the same shape). Nothing follows."""
KINDS = (ACTIVITY, INVOKE_RESPONSE, END, ERROR)
LAST = (END, ERROR)
"""The kinds after which the gateway closes the response."""

KIND_FIELD = b"k"
DATA_FIELD = b"d"

APPEND_SCRIPT = f"""
local last = false
if ARGV[3] ~= '' then
  redis.call('XDEL', KEYS[1], ARGV[3])
end
for i = 4, #ARGV, 2 do
  local fields = {{'k', ARGV[i], 'd', ARGV[i + 1]}}
  last = redis.call('XADD', KEYS[1], 'MAXLEN', '~', {MAX_EVENTS}, '*', unpack(fields))
end
redis.call('EXPIRE', KEYS[1], {EVENTS_TTL_SECONDS})
redis.call('PUBLISH', ARGV[1], ARGV[2])
return last
"""
"""Append events and wake the gateway, in one step (the worker runs it inside the turn's
ownership fence: a worker that lost the entry appends nothing). KEYS: the request's events.
ARGV: the answers channel, the wake-up, the id of an event this one supersedes ('' for none: it
is deleted), then kind and data of each event, in order. Answers the last event's id."""


class EventError(ValueError):
    """A stored entry is not an event."""


def invoke_response(answer: Answer) -> bytes:
    """The `invokeResponse` event's data for an invoke's answer (its body is JSON or empty)."""
    body = answer.body if answer.body is not None else b"null"
    return b'{"status":%d,"body":%s}' % (answer.status, body)


def activity_data(activity: dict[str, object]) -> bytes:
    return orjson.dumps(activity)


def read_entry(fields: dict[bytes, bytes] | dict[str, str]) -> tuple[bytes, bytes]:
    """The kind and data of a stored entry (fields as a client returns them)."""
    raw = {
        (k.encode() if isinstance(k, str) else k): (v.encode() if isinstance(v, str) else v)
        for k, v in fields.items()
    }
    kind, data = raw.get(KIND_FIELD), raw.get(DATA_FIELD)
    if kind not in KINDS or data is None:
        raise EventError(f"not an event: {sorted(raw)!r} of kind {kind!r}")
    return kind, data


def server_sent(kind: bytes, data: bytes, event_id: bytes | None = None) -> bytes:
    """One server-sent event. `data` is JSON on one line (orjson escapes every newline), so
    it is a single `data:` field; the id is the entry's, for `Last-Event-ID`."""
    if b"\n" in data or b"\r" in data:
        raise EventError("an event's data must be one line of JSON")
    head = b"id: %s\n" % event_id if event_id is not None else b""
    return b"%sevent: %s\ndata: %s\n\n" % (head, kind, data)


KEEP_ALIVE = b": keep-alive\n\n"
"""A comment line: proxies and clients see traffic on a long turn; EventSource ignores it."""
