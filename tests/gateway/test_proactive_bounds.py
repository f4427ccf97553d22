"""`POST /api/proactive` holds the bounds `/api/messages` holds (issue 19, finding 4): ids and
service URLs as long as an activity's may be, and a body refused as soon as it is known to be
too large, not once read whole."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

import orjson
import pytest

from gateway.app import create_app
from gateway.proactive import MAX_PROACTIVE_BODY_BYTES
from shared.protocol.keys import MAX_SERVICE_URL_LENGTH, MAX_USER_ID_LENGTH, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.gateway.test_edges import _answer, _exchange
from tests.support.http import serving
from tests.support.streams import stream_lengths

SECRET = "s" * 40


def _reference(**fields: Any) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "conversation": {"id": "c-1"},
        "user": {"id": "u-1"},
        "bot": {"id": "b-1"},
        **fields,
    }


def _request(body: bytes, *, length: int | None = None, chunked: bool = False) -> bytes:
    framing = (
        b"Transfer-Encoding: chunked\r\n"
        if chunked
        else b"Content-Length: %d\r\n" % (len(body) if length is None else length)
    )
    return (
        b"POST /api/proactive HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + SECRET.encode() + b"\r\n" + framing + b"\r\n" + body
    )


@contextlib.asynccontextmanager
async def _gateway(settings: Settings) -> Any:
    app = create_app(dataclasses.replace(settings, proactive_secret=SECRET))
    async with serving(app) as base:
        yield int(base.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("reference", "needle"),
    [
        pytest.param(
            _reference(serviceUrl="https://x/" + "p" * MAX_SERVICE_URL_LENGTH),
            "serviceUrl",
            id="long-service-url",
        ),
        pytest.param(
            _reference(user={"id": "u" * (MAX_USER_ID_LENGTH + 1)}), "user must be", id="long-user"
        ),
        pytest.param(_reference(bot={"id": 7}), "bot must be", id="numeric-bot"),
        pytest.param(_reference(user="u-1"), "user must be", id="user-not-an-object"),
    ],
)
async def test_references_are_bounded_as_activities_are(
    settings: Settings, redis: Redis, keys: Keyspace, reference: dict[str, Any], needle: str
) -> None:
    body = orjson.dumps({"reference": reference, "activity": {"text": "hi"}})
    async with _gateway(settings) as port:
        status, _, answer = await _exchange(port, _request(body))
    assert (status, answer["error"]) == (400, "bad_request")
    assert needle in answer["message"]
    assert await stream_lengths(redis, keys) == 0


async def test_a_declared_length_past_the_limit_is_refused_before_the_body(
    settings: Settings,
) -> None:
    """Before: the gateway read a 17 MiB body whole, then answered 413. Here only the head is
    sent: the answer can come only from the declared length."""
    async with _gateway(settings) as port:
        status, _, answer = await _exchange(
            port, _request(b"", length=MAX_PROACTIVE_BODY_BYTES + 1)
        )
    assert (status, answer["error"]) == (413, "too_large")


async def test_a_streamed_body_is_refused_once_past_the_limit(settings: Settings) -> None:
    """Chunked, never ended: only a body read as it streams can be answered."""
    piece = b"%x\r\n%s\r\n" % (1024 * 1024, b" " * 1024 * 1024)
    async with _gateway(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_request(b"", chunked=True))
        with contextlib.suppress(ConnectionError):
            for _ in range(MAX_PROACTIVE_BODY_BYTES // (1024 * 1024) + 1):
                writer.write(piece)
                await writer.drain()
        status, _, answer = await _answer(reader)
        writer.close()
    assert (status, answer["error"]) == (413, "too_large")
