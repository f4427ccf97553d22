"""The encoding of a `stream` request's events: stored entries, publications, the SSE wire."""

from __future__ import annotations

import orjson
import pytest

from shared.protocol.answer_events import (
    ACTIVITY,
    END,
    INVOKE_RESPONSE,
    EventError,
    activity_data,
    invoke_response,
    read_entry,
    server_sent,
)
from shared.protocol.answers import Answer, publication, read_publication, wake_up


def test_an_activity_event_is_one_data_line_however_many_lines_its_text_has() -> None:
    data = activity_data({"type": "message", "text": "two\nlines\r\n"})

    wire = server_sent(ACTIVITY, data, b"1700000000000-3")

    assert wire == (
        b"id: 1700000000000-3\nevent: activity\n"
        b'data: {"type":"message","text":"two\\nlines\\r\\n"}\n\n'
    )


def test_an_event_without_an_id_has_no_id_field() -> None:
    assert server_sent(END, b"{}") == b"event: end\ndata: {}\n\n"


def test_data_that_would_break_the_event_framing_is_refused() -> None:
    with pytest.raises(EventError):
        server_sent(ACTIVITY, b'{"a":\n1}')


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(200, b'{"statusCode":200}'), {"status": 200, "body": {"statusCode": 200}}),
        (Answer(501), {"status": 501, "body": None}),
    ],
)
def test_an_invoke_response_carries_status_and_body(answer: Answer, expected: object) -> None:
    assert orjson.loads(invoke_response(answer)) == expected


def test_a_stored_entry_reads_back_from_bytes_or_str_fields() -> None:
    assert read_entry({b"k": INVOKE_RESPONSE, b"d": b"{}"}) == (INVOKE_RESPONSE, b"{}")
    assert read_entry({"k": "end", "d": "{}"}) == (END, b"{}")


@pytest.mark.parametrize(
    "fields", [{b"k": b"nonsense", b"d": b"{}"}, {b"k": ACTIVITY}, {b"e": b"x"}]
)
def test_an_entry_that_is_not_an_event_is_refused(fields: dict[bytes, bytes]) -> None:
    with pytest.raises(EventError):
        read_entry(fields)


def test_a_wake_up_is_told_apart_from_an_answer() -> None:
    assert read_publication(wake_up("k:1")) == ("k:1", None)
    assert read_publication(publication("k:2", Answer(204))) == ("k:2", Answer(204))
