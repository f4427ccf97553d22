from __future__ import annotations

import msgpack
import orjson
import pytest

from shared import codec
from shared.envelope import Envelope, EnvelopeError
from tests.activities import message


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
