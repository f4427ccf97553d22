"""`POST /api/messages`: the Bot Framework messaging endpoint.

Written as a plain ASGI app rather than a Starlette request/response endpoint because it is the
one hot path: every activity of every channel passes here (see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import NamedTuple

import orjson
from starlette.types import Receive, Scope, Send

from gateway.activity_check import BadActivity, CheckedActivity, parse_activity
from gateway.authentication import Authenticator, AuthError, KeysUnavailable, VerifiedToken
from gateway.enqueue import Enqueuer, Unavailable
from gateway.event_stream import relay_events
from gateway.resources import Resources, resources
from gateway.responses import send_empty, send_error, send_json
from shared.protocol.answers import Answer
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace
from shared.protocol.signing import EnvelopeSigner
from shared.telemetry import otel
from shared.telemetry.tracing import TraceParent, continue_trace

log = logging.getLogger(__name__)

_EVENT_ID = re.compile(r"\d{1,20}-\d{1,20}")
"""A `Last-Event-ID` the gateway gave: a Redis stream entry id."""


class MessagesEndpoint:
    """Check the activity (and its token), enqueue it on its conversation's shard, answer 202
    once Redis has it. Nothing is enqueued for a request that fails any check."""

    def __init__(
        self,
        keys: Keyspace,
        *,
        max_body_bytes: int,
        retry_after_seconds: int,
        max_json_depth: int = 64,
        authenticate: bool = False,
        signer: EnvelopeSigner | None = None,
        reply_timeout_seconds: float = 10.0,
        timeout_answer: Answer | None = None,
        stream_timeout_seconds: float = 300.0,
        stream_keepalive_seconds: float = 15.0,
        tracer: otel.Tracer | None = None,
    ) -> None:
        self._keys = keys
        self._max_body = max_body_bytes
        self._retry_after = retry_after_seconds
        self._max_depth = max_json_depth
        self._authenticate = authenticate
        """With an app id, every request needs a valid token (`Resources.authenticator`)."""
        self._signer = signer
        self._reply_timeout = reply_timeout_seconds
        self._timeout_answer = timeout_answer or Answer(
            504,
            orjson.dumps(
                {"error": "reply_timeout", "message": "the bot did not answer in time; retry"}
            ),
        )
        self._stream_timeout = stream_timeout_seconds
        self._stream_keepalive = stream_keepalive_seconds
        self._tracer = tracer
        """With OpenTelemetry set up, each enqueue is a span (else only W3C ids travel on)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        content_type, declared_length, authorization = headers[:3]
        if not _is_json(content_type):
            return await send_error(
                send, 415, "unsupported_media_type", "send the activity as application/json"
            )
        if declared_length.isdigit() and int(declared_length) > self._max_body:
            return await self._too_large(send)
        state = resources(scope)
        token: VerifiedToken | None = None
        authenticator = state.authenticator
        if self._authenticate:
            if authenticator is None:  # the lifespan makes one whenever an app id is set
                raise RuntimeError("the gateway has an app id but no authenticator")
            # Before the body is read or parsed: an unauthenticated caller learns nothing else.
            token = await self._verify(authenticator, authorization, send)
            if token is None:
                return None  # refused
        body = await _read_body(receive, self._max_body)
        if body is None:
            return await self._too_large(send)
        try:
            checked = parse_activity(body, self._max_depth)
            if token is not None and authenticator is not None:
                authenticator.check_activity(token, checked.channel_id, checked.service_url)
        except BadActivity as e:
            return await send_error(send, 400, "bad_activity", str(e))
        except AuthError as e:
            return await _refuse(send, e)
        await self._accept(state, body, checked, token, headers, receive, send)

    async def _accept(
        self,
        state: Resources,
        body: bytes,
        checked: CheckedActivity,
        token: VerifiedToken | None,
        headers: _Headers,
        receive: Receive,
        send: Send,
    ) -> None:
        """Wrap the checked activity in its envelope, in the caller's trace, and enqueue it."""
        streamed = None
        if checked.streamed:
            streamed = await self._streamed(headers.accept, headers.last_event_id, receive, send)
            if streamed is None:
                return None  # refused
        # An answer is kept under the activity id, so that a retry of the request finds it.
        request = (checked.activity_id or uuid.uuid4().hex) if checked.expects_answer else None
        traceparent = headers.traceparent
        span = (
            self._tracer.start("turnstream enqueue", TraceParent.parse(traceparent), otel.PRODUCER)
            if self._tracer is not None
            else None
        )
        trace = span.traceparent if span is not None else continue_trace(traceparent)
        envelope = Envelope(
            body,
            checked.conversation,
            time.time(),
            token.service_url if token is not None else None,
            token.claims if token is not None else None,
            request=request,
            traceparent=trace.header(),
        )
        try:
            await self._enqueue(
                state, checked, envelope.encode(self._signer), request, send, streamed
            )
        finally:
            if span is not None:
                span.end()

    async def _streamed(
        self, accept: bytes | None, last_event_id: bytes | None, receive: Receive, send: Send
    ) -> _Streamed | None:
        """What a `stream` request needs, or None once its refusal is sent."""
        if not _accepts_events(accept):
            await send_error(
                send,
                406,
                "not_acceptable",
                'deliveryMode "stream" is answered as text/event-stream, which the Accept '
                "header refuses",
            )
            return None
        after = "0-0"
        if last_event_id is not None:
            after = last_event_id.decode("latin-1").strip()
            if not _EVENT_ID.fullmatch(after):
                await send_error(
                    send, 400, "bad_last_event_id", "Last-Event-ID is not an event id this sent"
                )
                return None
        return _Streamed(receive, after)

    async def _verify(
        self, authenticator: Authenticator, authorization: bytes | None, send: Send
    ) -> VerifiedToken | None:
        """The request's verified token, or None once the refusal is sent."""
        try:
            return await authenticator.verify(authorization)
        except AuthError as e:
            await _refuse(send, e)
        except KeysUnavailable:
            await send_error(
                send,
                503,
                "keys_unavailable",
                "the token signing keys cannot be fetched right now; retry later",
                retry_after=self._retry_after,
            )
        return None

    async def _enqueue(
        self,
        state: Resources,
        checked: CheckedActivity,
        envelope: bytes,
        request: str | None,
        send: Send,
        streamed: _Streamed | None,
    ) -> None:
        if state.backlog.over:
            return await send_error(
                send,
                503,
                "backlog",
                "the bot is behind on its work; retry later",
                retry_after=self._retry_after,
            )
        enqueuer: Enqueuer = state.enqueuer
        conversation, activity_id = checked.conversation, checked.activity_id
        shard = self._keys.shard_of(conversation)
        keys = self._keys
        # Waiting before the activity is queued: its answer may come back at once.
        expected = (
            state.answers.expect(keys.answer(shard, conversation, request))
            if request and streamed is None
            else None
        )
        followed = (
            state.answers.follow(keys.answer_events(shard, conversation, request))
            if request and streamed is not None
            else None
        )
        try:
            entry_id = await enqueuer.enqueue(
                keys.stream(shard),
                keys.seen(shard, conversation, activity_id),
                keys.last(shard, conversation),
                envelope,
                dedupe=bool(activity_id),
            )
        except Unavailable:
            if expected is not None:
                state.answers.forget(expected)
            if followed is not None:
                state.answers.unfollow(followed)
            # The cause is logged by the enqueuer; the answer says only what the caller can do.
            return await send_error(
                send,
                503,
                "unavailable",
                "the queue did not take the activity in time; retry later",
                retry_after=self._retry_after,
            )
        if followed is not None and streamed is not None:
            # A duplicate reads the first copy's events, which may all be stored already.
            outcome = await relay_events(
                state.redis,
                state.answers,
                followed,
                send,
                streamed.receive,
                after=streamed.after,
                within=self._stream_timeout,
                keepalive=self._stream_keepalive,
            )
            if outcome == "timeout":
                log.warning(
                    "%s activity %s: no end of its events within %.1f s",
                    conversation,
                    request,
                    self._stream_timeout,
                    extra={"conversation": conversation, "activity_id": activity_id},
                )
            return None
        if expected is None:
            # A duplicate id (None above) is answered the same way: the first copy is queued.
            return await send_empty(send, 202)
        # A duplicate waits for the first copy's answer, which may be stored already.
        answer = await expected.result(self._reply_timeout, stored=entry_id is None)
        if answer is None:
            log.warning(
                "no answer within %.1f s for %s activity %s; answering %d",
                self._reply_timeout,
                conversation,
                request,
                self._timeout_answer.status,
                extra={"conversation": conversation, "activity_id": activity_id},
            )
            answer = self._timeout_answer
        await send_json(send, answer.status, answer.body)

    async def _too_large(self, send: Send) -> None:
        await send_error(send, 413, "too_large", f"activity is larger than {self._max_body} bytes")


class _Streamed(NamedTuple):
    """A `stream` request's own: where its disconnection shows, and the last event it has."""

    receive: Receive
    after: str


async def _refuse(send: Send, error: AuthError) -> None:
    code = "forbidden" if error.status == 403 else "unauthorized"
    await send_error(send, error.status, code, error.reason, challenge=error.status == 401)


class _Headers(NamedTuple):
    content_type: bytes
    declared_length: bytes
    authorization: bytes | None
    traceparent: bytes | None
    accept: bytes | None
    last_event_id: bytes | None


def _headers(scope: Scope) -> _Headers:
    """Content type, declared length, Authorization, traceparent, Accept and Last-Event-ID, in
    one pass."""
    content_type = b""
    declared_length = b""
    authorization: bytes | None = None
    traceparent: bytes | None = None
    accept: bytes | None = None
    last_event_id: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            declared_length = value
        elif name == b"authorization":
            authorization = value
        elif name == b"traceparent":
            traceparent = value
        elif name == b"accept":
            accept = value
        elif name == b"last-event-id":
            last_event_id = value
    return _Headers(
        content_type, declared_length, authorization, traceparent, accept, last_event_id
    )


def _accepts_events(accept: bytes | None) -> bool:
    """No Accept header, or one that admits text/event-stream (`*/*`, `text/*`, q > 0)."""
    if accept is None:
        return True
    for item in accept.lower().split(b","):
        media_type, *params = (part.strip() for part in item.split(b";"))
        if media_type not in (b"text/event-stream", b"text/*", b"*/*"):
            continue
        if not any(
            p.replace(b" ", b"") in (b"q=0", b"q=0.0", b"q=0.00", b"q=0.000") for p in params
        ):
            return True
    return False


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
