"""Which Accept headers let a `deliveryMode: "stream"` request be answered with events."""

from __future__ import annotations

import pytest

from gateway.messages import _accepts_events


@pytest.mark.parametrize(
    "accept",
    [
        None,
        b"text/event-stream",
        b"*/*",
        b"application/json, text/*;q=0.5",
        b"Text/Event-Stream; charset=utf-8",
    ],
)
def test_accepted(accept: bytes | None) -> None:
    assert _accepts_events(accept)


@pytest.mark.parametrize(
    "accept", [b"application/json", b"text/event-stream;q=0", b"text/html, */*; q=0.0", b""]
)
def test_refused(accept: bytes) -> None:
    assert not _accepts_events(accept)
