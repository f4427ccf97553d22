"""POST /api/messages through real HTTP into a real Redis."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import envelopes_in, stream_lengths


async def post(
    base: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, Any, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/api/messages", data=body, headers={"Content-Type": content_type}
        ) as response,
    ):
        raw = await response.read()
        return response.status, orjson.loads(raw) if raw else None, dict(response.headers)


async def test_activity_is_queued_on_its_conversation_shard(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    activity = message("hi", conversation="c-42")
    async with serving(create_app(settings)) as base:
        status, body, headers = await post(base, orjson.dumps(activity))
    assert (status, body, headers["Content-Length"]) == (202, None, "0")
    shard = keys.shard_of("test/c-42")
    (envelope,) = await envelopes_in(redis, keys.stream(shard))
    assert envelope.activity() == activity
    assert envelope.conversation == "test/c-42"
    assert await stream_lengths(redis, keys) == 1


async def test_charset_and_missing_optional_fields_are_accepted(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    activity = message("hi", activity_id=None)
    del activity["from"], activity["recipient"]
    async with serving(create_app(settings)) as base:
        status, _, _ = await post(base, orjson.dumps(activity), "application/json; charset=utf-8")
    assert status == 202
    assert await stream_lengths(redis, keys) == 1


async def test_repeated_activity_id_is_queued_once(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    first = message("hi", activity_id="dup-1")
    async with serving(create_app(settings)) as base:
        statuses = [(await post(base, orjson.dumps(first)))[0] for _ in range(3)]
        # The same id in another conversation is a different activity.
        other = message("hi", activity_id="dup-1", conversation="conv-2")
        statuses.append((await post(base, orjson.dumps(other)))[0])
    assert statuses == [202, 202, 202, 202]
    assert await stream_lengths(redis, keys) == 2


def _deep(levels: int) -> bytes:
    return (
        b'{"type":"message","channelId":"t","serviceUrl":"http://x","conversation":{"id":"c"},"v":'
        + (b"[" * levels + b"]" * levels)
        + b"}"
    )


BAD_REQUESTS = [
    pytest.param(b"not json", "application/json", 400, "not valid JSON", id="not-json"),
    pytest.param(b'{"type": "message"', "application/json", 400, "not valid JSON", id="truncated"),
    pytest.param(
        orjson.dumps(message("x")), "text/plain", 415, "application/json", id="wrong-type"
    ),
    pytest.param(orjson.dumps(message("x")), "", 415, "application/json", id="no-content-type"),
    pytest.param(b"[1, 2]", "application/json", 400, "JSON object", id="json-list"),
    pytest.param(b'"text"', "application/json", 400, "JSON object", id="json-string"),
    pytest.param(
        orjson.dumps({**message("x"), "type": ""}), "application/json", 400, "type", id="empty-type"
    ),
    pytest.param(
        orjson.dumps({k: v for k, v in message("x").items() if k != "conversation"}),
        "application/json",
        400,
        "conversation",
        id="no-conversation",
    ),
    pytest.param(
        orjson.dumps({**message("x"), "conversation": {"name": "n"}}),
        "application/json",
        400,
        "conversation.id",
        id="no-conversation-id",
    ),
    pytest.param(
        orjson.dumps({k: v for k, v in message("x").items() if k != "serviceUrl"}),
        "application/json",
        400,
        "serviceUrl",
        id="no-service-url",
    ),
    pytest.param(
        orjson.dumps({**message("x"), "serviceUrl": "ftp://x"}),
        "application/json",
        400,
        "serviceUrl",
        id="bad-service-url",
    ),
    pytest.param(
        orjson.dumps({k: v for k, v in message("x").items() if k != "channelId"}),
        "application/json",
        400,
        "channelId",
        id="no-channel",
    ),
    pytest.param(
        orjson.dumps({**message("x"), "id": 7}), "application/json", 400, "id", id="numeric-id"
    ),
    pytest.param(
        orjson.dumps({**message("x"), "from": "u"}),
        "application/json",
        400,
        "from",
        id="from-string",
    ),
    pytest.param(_deep(5000), "application/json", 400, "nested deeper", id="deep-nesting-json"),
    pytest.param(b"\xff\xfe{}", "application/json", 400, "JSON", id="not-utf8"),
    pytest.param(b"", "application/json", 400, "JSON", id="empty"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "needle"), BAD_REQUESTS)
async def test_bad_input_gets_a_clear_error_and_writes_nothing(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    body: bytes,
    content_type: str,
    status: int,
    needle: str,
) -> None:
    async with serving(create_app(settings)) as base:
        got_status, got_body, headers = await post(base, body, content_type)
    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert needle in got_body["message"]
    assert await stream_lengths(redis, keys) == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"n": 10**30},  # out of int64: orjson reads it as a float
        {"text": "emoji \U0001f916 and nul \u0000 and rtl \u202e"},
        {"from": None, "recipient": None, "id": None},
        {"attachments": [{"contentType": "x", "content": {"a": [None, True, 1.5]}}]},
    ],
)
async def test_odd_but_valid_activities_are_queued(
    settings: Settings, redis: Redis, keys: Keyspace, extra: dict[str, Any]
) -> None:
    async with serving(create_app(settings)) as base:
        status, _, _ = await post(base, _dump({**message("x"), **extra}))
    assert status == 202
    assert await stream_lengths(redis, keys) == 1


def _dump(doc: dict[str, Any]) -> bytes:
    # orjson refuses to write integers past 64 bits; the standard library does not.
    return json.dumps(doc).encode()


async def test_oversize_body_gets_413_and_writes_nothing(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    activity = message("x" * (settings.max_body_bytes + 10))
    async with serving(create_app(settings)) as base:
        status, body, _ = await post(base, orjson.dumps(activity))

        # Chunked upload without Content-Length: the limit holds while reading.
        async def chunks() -> Any:
            data = orjson.dumps(activity)
            for i in range(0, len(data), 8192):
                yield data[i : i + 8192]

        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/api/messages", data=chunks(), headers={"Content-Type": "application/json"}
            ) as response,
        ):
            chunked_status = response.status
            chunked_body = await response.json()
    assert (status, chunked_status) == (413, 413)
    assert "larger than" in body["message"] and "larger than" in chunked_body["message"]
    assert await stream_lengths(redis, keys) == 0


async def test_unknown_route_and_method_answer_json(settings: Settings) -> None:
    async with serving(create_app(settings)) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/nope") as response:
            assert response.status == 404
            assert (await response.json())["message"] == "Not Found"
        async with http.get(f"{base}/api/messages") as response:
            assert response.status == 405
            assert (await response.json())["error"] == "http_error"


async def test_health_and_readiness(settings: Settings) -> None:
    async with serving(create_app(settings)) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"})
        async with http.get(f"{base}/readyz") as response:
            assert (response.status, await response.json()) == (200, {"status": "ready"})
