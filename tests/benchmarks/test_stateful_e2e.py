"""The pure logic of benchmarks/stateful_e2e.py: its workload's arithmetic, the check that both
bots said the same, and the reply sink keeping the texts of probe conversations only."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from benchmarks.harness import BenchError
from benchmarks.reply_sink import SinkProtocol, Tally
from benchmarks.stateful_e2e import check_same_replies, state_load


def test_a_conversation_is_hi_a_name_and_messages_of_three_replies() -> None:
    load = state_load(conversations=3, messages=2)
    assert (load.turns, load.conversations, load.replies) == (12, 3, 3 * (1 + 1 + 3 * 2))
    assert [load.build("t", 0, n, "http://c")["text"] for n in range(4)] == [
        "hi",
        "User0",
        "message 1",
        "message 2",
    ]


def test_the_same_replies_pass_and_a_different_one_fails_naming_its_turn() -> None:
    said: list[list[str | None]] = [["What is your name?"], ["Thanks User0."], ["a", "b", "c"]]
    check_same_replies(said, [list(turn) for turn in said])
    with pytest.raises(BenchError, match=r"MISMATCH[\s\S]*turn 2") as raised:
        check_same_replies(said, [*said[:2], ["a", "c", "b"]])
    assert "turn 0" not in str(raised.value)


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data


def _post(path: str, body: dict[str, str]) -> bytes:
    data = orjson.dumps(body)
    return b"POST %s HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (path.encode(), len(data), data)


def test_the_sink_keeps_the_texts_of_probe_conversations_only() -> None:
    tally, transport = Tally(), _Transport()
    sink = SinkProtocol(tally)
    sink.connection_made(transport)
    sink.data_received(
        _post("/v3/conversations/probe-a-conv-0/activities/probe-a-0-1", {"text": "one"})
    )
    sink.data_received(_post("/v3/conversations/m1-conv-0/activities/m1-0-1", {"text": "other"}))
    sink.data_received(
        _post("/v3/conversations/probe-a-conv-0/activities/probe-a-0-1", {"text": "two"})
    )
    assert tally.texts == {"probe-a-conv-0": [("probe-a-0-1", "one"), ("probe-a-0-1", "two")]}
    assert orjson.loads(tally.stats("m1"))[0] == 1  # counted, not kept

    transport.written.clear()
    sink.data_received(b"GET /_bench/texts?conversation=probe-a-conv-0 HTTP/1.1\r\n\r\n")
    body = bytes(transport.written).partition(b"\r\n\r\n")[2]
    assert orjson.loads(body) == [["probe-a-0-1", "one"], ["probe-a-0-1", "two"]]
