from __future__ import annotations

import msgpack
import orjson
import pytest

from shared.protocol import codec
from shared.protocol.envelope import Envelope, EnvelopeError, RouteCall
from shared.protocol.signing import EnvelopeSigner
from shared.telemetry.tracing import TraceParent
from tests.support.activities import message


def test_round_trip() -> None:
    envelope = Envelope(orjson.dumps(message("hi")), "test/conv-1", 1700000000.25)
    assert Envelope.decode(envelope.encode()) == envelope
    assert envelope.activity() == message("hi")


def test_deepest_json_the_gateway_accepts_round_trips() -> None:
    # orjson's depth limit is 1024 and the activity object is one level: the deepest accepted body.
    body = orjson.dumps(message("x"))[:-1] + b',"value":' + b"[" * 1023 + b"]" * 1023 + b"}"
    parsed = Envelope.decode(Envelope(body, "test/c", 1.0).encode()).activity()
    depth, value = 0, parsed["value"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == 1022


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xc1", "invalid msgpack"),
        (codec.pack([1, 2]), "not a map"),
        (codec.pack({"v": 2, "a": b"{}", "c": "x", "t": 1.0}), "version 2 is not supported"),
        (codec.pack({"v": 1, "c": "x", "t": 1.0}), "activity"),
        (codec.pack({"v": 1, "a": {}, "c": "x", "t": 1.0}), "activity"),
        (codec.pack({"v": 1, "a": b"{}", "c": "x"}), "receipt time"),
        (msgpack.packb({1: 2}), "invalid msgpack"),
    ],
)
def test_unreadable_envelopes_are_refused(data: bytes, needle: str) -> None:
    with pytest.raises(EnvelopeError, match=needle):
        Envelope.decode(data)


def test_unpack_refuses_oversized_input() -> None:
    with pytest.raises(codec.DecodeError, match="refusing"):
        codec.unpack(b"\x00" * (codec.MAX_UNPACK_BYTES + 1))


def test_pack_refuses_what_it_cannot_store() -> None:
    with pytest.raises(codec.EncodeError):
        codec.pack({"n": 2**70})
    with pytest.raises(codec.EncodeError):
        codec.pack({"x": object()})


def test_activity_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="not a JSON object"):
        Envelope(b"[1]", "t/c", 1.0).activity()
    with pytest.raises(EnvelopeError, match="not valid JSON"):
        Envelope(b"{", "t/c", 1.0).activity()


SECRET = "k" * 32


def _authenticated() -> Envelope:
    return Envelope(
        orjson.dumps(message("hi")),
        "test/conv-1",
        1700000000.25,
        service_url="https://smba.trafficmanager.net/emea/",
        claims={"iss": "https://api.botframework.com", "aud": "app"},
    )


def test_what_the_gateway_validated_round_trips() -> None:
    envelope = _authenticated()
    assert Envelope.decode(envelope.encode()) == envelope


def test_entries_written_before_authentication_are_still_read() -> None:
    old = msgpack.packb({"v": 1, "a": b'{"type":"message"}', "c": "t/c", "t": 1.5})
    envelope = Envelope.decode(old)
    assert (envelope.service_url, envelope.claims) == (None, None)


def test_signed_envelopes_verify_and_anything_else_is_refused() -> None:
    signer = EnvelopeSigner([SECRET])
    signed = _authenticated().encode(signer)
    assert Envelope.decode(signed, signer) == _authenticated()
    assert Envelope.decode(signed) == _authenticated()  # a worker without the secret ignores it
    with pytest.raises(EnvelopeError, match="not signed"):
        Envelope.decode(_authenticated().encode(), signer)
    with pytest.raises(EnvelopeError, match="does not match"):
        Envelope.decode(_authenticated().encode(EnvelopeSigner(["o" * 32])), signer)
    doc = codec.unpack(signed)
    doc["s"] = "https://attacker.example/"  # the service URL changed after signing
    with pytest.raises(EnvelopeError, match="does not match"):
        Envelope.decode(codec.pack(doc), signer)


def test_a_rotated_secret_still_verifies_what_the_old_one_signed() -> None:
    old, new = "o" * 32, "n" * 32
    signed_before = _authenticated().encode(EnvelopeSigner([old]))
    rotating = EnvelopeSigner([new, old])
    assert Envelope.decode(signed_before, rotating) == _authenticated()
    assert Envelope.decode(_authenticated().encode(rotating), EnvelopeSigner([new])).claims
    assert SECRET not in repr(EnvelopeSigner([SECRET]))


@pytest.mark.parametrize(
    "extra",
    [
        {"s": 7},
        {"k": ["not", "a", "map"]},
        {"k": {"iss": 1}},
        {"k": {str(i): "" for i in range(40)}},
    ],
)
def test_malformed_validated_fields_are_refused(extra: dict[str, object]) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.decode(codec.pack({"v": 1, "a": b"{}", "c": "t/c", "t": 1.0, **extra}))


def test_unpack_refuses_extension_types() -> None:
    with pytest.raises(codec.DecodeError):
        codec.unpack(msgpack.packb({"x": msgpack.ExtType(5, b"payload")}))


def test_the_trace_context_travels_and_old_entries_still_decode() -> None:
    header = TraceParent.new().header()
    traced = Envelope(b"{}", "test/c", 1.0, traceparent=header)
    assert Envelope.decode(traced.encode()).traceparent == header
    old = Envelope(b"{}", "test/c", 1.0).encode()  # as queued before the field existed
    assert Envelope.decode(old).traceparent is None
    signer = EnvelopeSigner.from_secrets(("s" * 32,))
    assert signer is not None
    assert Envelope.decode(traced.encode(signer), signer).traceparent == header
    odd = codec.pack({"v": 1, "a": b"{}", "c": "test/c", "t": 1.0, "w": 7})
    assert Envelope.decode(odd).traceparent is None  # a bad trace id never costs the activity


def test_a_bot_route_request_round_trips_and_a_malformed_one_is_refused() -> None:
    call = RouteCall("POST", "/api/notify", "a=1", {"content-type": "text/plain"}, b"\x00hi")
    envelope = Envelope(b"{}", "turnstream/route/api/notify", 1.0, request="r1", route=call)

    assert Envelope.decode(envelope.encode()) == envelope
    doc = codec.unpack(envelope.encode())
    doc["h"]["h"] = {"x": 1}
    with pytest.raises(EnvelopeError, match="route part"):
        Envelope.decode(codec.pack(doc))
