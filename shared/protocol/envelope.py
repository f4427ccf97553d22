"""The envelope: the one versioned record that crosses from gateway to worker through Redis.

Version 1 carries the activity's JSON exactly as the channel sent it, when the gateway received
it, and the conversation key that chose its shard. The activity stays JSON (not re-encoded as
msgpack) so that the worker parses it with the same parser, and the same limits, that the gateway
validated it with: nothing the gateway acknowledged can be unreadable downstream. A worker refuses
an envelope version it does not know instead of guessing, so a rolling upgrade that changes the
version must roll workers before gateways.

What the gateway authenticated travels with the activity in optional fields that version-1
readers ignore: the service URL the channel's token vouched for (`s`) and the token's claims
(`k`); so do the id of a request the gateway waits on for the turn's answer (`r`) and what
makes a turn proactive (`o`). With
`TURNSTREAM_ENVELOPE_SECRET` set, gateways sign each envelope (`g`) and workers refuse entries
without a valid signature (see `shared.protocol.signing`). To turn signing on, configure the
gateways first (workers without the secret ignore `g`), then the workers.

A request to one of the bot's own HTTP routes (`h`, `RouteCall`) rides in an envelope too, with
a request id: a worker older than route support would run its event activity through the bot,
so roll workers before gateways (as for any new field).

The W3C `traceparent` of the gateway's span (`w`) is optional too: entries queued before it
existed decode without it, and a worker that predates it ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared.errors import TurnstreamError
from shared.protocol import codec
from shared.protocol.signing import EnvelopeSigner

ENVELOPE_VERSION = 1
MAX_CLAIMS = 32
MAX_CLAIM_LENGTH = 4096
MAX_TRACEPARENT_LENGTH = 512


class EnvelopeError(TurnstreamError):
    """A stream entry does not hold an envelope this process can read."""


@dataclass(frozen=True, slots=True)
class ProactiveTurn:
    """What makes a queued turn proactive: nobody sent it; an operator or the bot's own code
    asked for it (see `shared.protocol.proactive`)."""

    job: str | None = None
    """The fan-out this turn belongs to, whose progress it counts."""
    send: bytes | None = None
    """An activity (JSON) to send to the conversation, instead of running the bot."""
    callback: str | None = None
    """The bot code to run (`module:qualname`, or `bot:method`), instead of `on_turn`."""

    def encode(self) -> dict[str, Any]:
        return {"j": self.job, "s": self.send, "c": self.callback}

    @classmethod
    def decode(cls, raw: object) -> ProactiveTurn:
        if not isinstance(raw, dict):
            raise EnvelopeError("envelope's proactive part is not a map")
        job, send, callback = raw.get("j"), raw.get("s"), raw.get("c")
        if not (
            (job is None or isinstance(job, str))
            and (send is None or isinstance(send, bytes))
            and (callback is None or isinstance(callback, str))
        ):
            raise EnvelopeError("envelope's proactive part has fields of the wrong type")
        return cls(job, send, callback)


@dataclass(frozen=True, slots=True)
class RouteCall:
    """An HTTP request to one of the bot's own routes (`shared.protocol.bot_routes`), for the
    worker that runs its handler."""

    method: str
    path: str
    query: str
    """The query string as received (percent-encoded, without `?`)."""
    headers: Mapping[str, str]
    """Lower-cased names; credentials (Authorization, Cookie) are never passed on."""
    body: bytes

    def encode(self) -> dict[str, Any]:
        return {
            "m": self.method,
            "p": self.path,
            "q": self.query,
            "h": dict(self.headers),
            "b": self.body,
        }

    @classmethod
    def decode(cls, raw: object) -> RouteCall:
        if not isinstance(raw, dict):
            raise EnvelopeError("envelope's route part is not a map")
        method, path, query = raw.get("m"), raw.get("p"), raw.get("q")
        headers, body = raw.get("h"), raw.get("b")
        if not (
            isinstance(method, str)
            and isinstance(path, str)
            and isinstance(query, str)
            and isinstance(headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
            and isinstance(body, bytes)
        ):
            raise EnvelopeError("envelope's route part has fields of the wrong type")
        return cls(method, path, query, headers, body)


@dataclass(frozen=True, slots=True)
class Envelope:
    """An inbound activity and what the gateway knew when it accepted it."""

    body: bytes
    """The activity as received: Bot Framework wire-format JSON (camelCase)."""
    conversation: str
    """`channelId/conversationId`: the unit of ordering and the shard key."""
    received_at: float
    """Gateway wall-clock time of receipt, seconds since the epoch."""
    service_url: str | None = None
    """The activity's `serviceUrl` when the gateway authenticated it: a channel token's
    `serviceurl` claim equal to it. None in anonymous mode (and for emulator tokens, which do
    not name a service URL)."""
    claims: Mapping[str, str] | None = None
    """The string claims of the token the gateway validated (issuer, audience, app id, ...);
    None when the request was not authenticated."""
    request: str | None = None
    """Set when a gateway waits for this turn's answer (an invoke, expectReplies): the id under
    which the worker stores and publishes it (see `shared.protocol.answers`)."""
    proactive: ProactiveTurn | None = None
    """Set for a turn nobody sent from a channel (`shared.protocol.proactive`)."""
    traceparent: str | None = None
    """The W3C `traceparent` of the gateway's span: the turn continues its trace."""
    route: RouteCall | None = None
    """Set for a request to one of the bot's own HTTP routes: the turn runs its handler."""

    def activity(self) -> dict[str, Any]:
        """The parsed activity (a dict: the gateway accepted nothing else)."""
        try:
            activity = orjson.loads(self.body)
        except orjson.JSONDecodeError as e:
            raise EnvelopeError(f"activity is not valid JSON: {e}") from e
        if not isinstance(activity, dict):
            raise EnvelopeError("activity is not a JSON object")
        return activity

    def encode(self, signer: EnvelopeSigner | None = None) -> bytes:
        doc: dict[str, Any] = {
            "v": ENVELOPE_VERSION,
            "a": self.body,
            "c": self.conversation,
            "t": float(self.received_at),
        }
        if self.service_url is not None:
            doc["s"] = self.service_url
        if self.claims is not None:
            doc["k"] = dict(self.claims)
        if self.request is not None:
            doc["r"] = self.request
        if self.proactive is not None:
            doc["o"] = self.proactive.encode()
        if self.traceparent is not None:
            doc["w"] = self.traceparent
        if self.route is not None:
            doc["h"] = self.route.encode()
        if signer is not None:
            doc["g"] = signer.sign(codec.pack(doc))
        return codec.pack(doc)

    @classmethod
    def decode(cls, data: bytes, signer: EnvelopeSigner | None = None) -> Envelope:
        """Read an envelope; with a `signer`, refuse one that no holder of its secret signed."""
        try:
            doc = codec.unpack(data)
        except codec.DecodeError as e:
            raise EnvelopeError(str(e)) from e
        if not isinstance(doc, dict):
            raise EnvelopeError("envelope is not a map")
        signature = doc.pop("g", None)
        if signer is not None:
            _check_signature(signer, doc, signature)
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
        service_url = doc.get("s")
        if service_url is not None and not isinstance(service_url, str):
            raise EnvelopeError("envelope's service URL is not a string")
        request = doc.get("r")
        if request is not None and not isinstance(request, str):
            raise EnvelopeError("envelope's request id is not a string")
        return cls(
            body=body,
            conversation=conversation,
            received_at=float(received_at),
            service_url=service_url,
            claims=_claims(doc.get("k")),
            request=request,
            proactive=None if doc.get("o") is None else ProactiveTurn.decode(doc["o"]),
            traceparent=_traceparent(doc.get("w")),
            route=None if doc.get("h") is None else RouteCall.decode(doc["h"]),
        )


def _check_signature(signer: EnvelopeSigner, doc: dict[str, Any], signature: object) -> None:
    if not isinstance(signature, bytes):
        raise EnvelopeError(
            "envelope is not signed, and TURNSTREAM_ENVELOPE_SECRET is set: it was not written "
            "by a gateway holding the secret"
        )
    # The signed message is the envelope packed without its signature, fields in written order.
    if not signer.verify(codec.pack(doc), signature):
        raise EnvelopeError(
            "envelope signature does not match TURNSTREAM_ENVELOPE_SECRET: it was not written "
            "by a gateway holding the secret, or was changed since"
        )


def _traceparent(raw: object) -> str | None:
    # Only ever a trace id: a malformed one starts a new trace, it never costs the activity.
    return raw if isinstance(raw, str) and len(raw) <= MAX_TRACEPARENT_LENGTH else None


def _claims(raw: object) -> dict[str, str] | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, dict)
        or len(raw) > MAX_CLAIMS
        or not all(
            isinstance(value, str) and len(value) <= MAX_CLAIM_LENGTH for value in raw.values()
        )
    ):
        raise EnvelopeError("envelope's claims are not a small map of strings")
    return raw
