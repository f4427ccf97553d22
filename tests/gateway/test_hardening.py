"""Limits at the edge: nesting, ids that become keys, and no internals in any answer."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

import gateway.messages
from gateway.app import create_app
from shared.protocol.keys import (
    MAX_ACTIVITY_ID_LENGTH,
    MAX_CHANNEL_ID_LENGTH,
    MAX_CONVERSATION_ID_LENGTH,
    MAX_USER_ID_LENGTH,
    Keyspace,
)
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.gateway.test_messages import post
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import stream_lengths


def _nested(levels: int) -> dict[str, Any]:
    """A message whose `value` makes the whole activity `levels` deep."""
    value: Any = []
    for _ in range(levels - 2):
        value = [value]
    return {**message("x"), "value": value}


def _with(**fields: Any) -> dict[str, Any]:
    return {**message("x"), **fields}


OUT_OF_BOUNDS = [
    pytest.param(_nested(65), "nested deeper than 64", id="too-deep"),
    pytest.param(_with(channelId="ms/teams"), "channelId", id="slash-in-channel"),
    pytest.param(
        _with(channelId="c" * (MAX_CHANNEL_ID_LENGTH + 1)), "channelId", id="long-channel"
    ),
    pytest.param(
        _with(conversation={"id": "c" * (MAX_CONVERSATION_ID_LENGTH + 1)}),
        "conversation.id",
        id="long-conversation",
    ),
    pytest.param(_with(id="i" * (MAX_ACTIVITY_ID_LENGTH + 1)), "id must be", id="long-id"),
    pytest.param(
        _with(**{"from": {"id": "u" * (MAX_USER_ID_LENGTH + 1)}}), "from.id", id="long-user"
    ),
    pytest.param(_with(recipient={"id": 7}), "recipient.id", id="numeric-recipient"),
    pytest.param(_with(serviceUrl="https://x/" + "p" * 3000), "serviceUrl", id="long-service-url"),
]


@pytest.mark.parametrize(("activity", "needle"), OUT_OF_BOUNDS)
async def test_out_of_bounds_activities_are_refused_and_write_nothing(
    settings: Settings, redis: Redis, keys: Keyspace, activity: dict[str, Any], needle: str
) -> None:
    async with serving(create_app(settings)) as base:
        status, body, _ = await post(base, orjson.dumps(activity))
    assert (status, body["error"]) == (400, "bad_activity")
    assert needle in body["message"]
    assert await stream_lengths(redis, keys) == 0


async def test_the_deepest_allowed_activity_and_many_flat_brackets_are_accepted(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    flat = {**message("x", activity_id="2"), "value": [[] for _ in range(500)]}
    shallow = dataclasses.replace(settings, max_json_depth=8)
    async with serving(create_app(settings)) as base:
        deepest, _, _ = await post(base, orjson.dumps(_nested(64)))
        many, _, _ = await post(base, orjson.dumps(flat))
    async with serving(create_app(shallow)) as base:
        refused, body, _ = await post(base, orjson.dumps(_nested(9)))
    assert (deepest, many, refused) == (202, 202, 400)
    assert "deeper than 8" in body["message"]
    assert await stream_lengths(redis, keys) == 2


async def test_ids_that_differ_only_in_where_a_colon_falls_are_different_activities(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    first = message("x", conversation="a:b", activity_id="c")
    second = message("x", conversation="a", activity_id="b:c")
    async with serving(create_app(settings)) as base:
        statuses = [(await post(base, orjson.dumps(a)))[0] for a in (first, second, first)]
    assert statuses == [202, 202, 202]
    assert await stream_lengths(redis, keys) == 2  # the repeat of the first is deduped


async def test_a_gateway_bug_is_a_json_500_without_internals(
    settings: Settings, redis: Redis, keys: Keyspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(body: bytes, max_depth: int = 64) -> Any:
        raise RuntimeError("internal detail: /srv/secret/path")

    monkeypatch.setattr(gateway.messages, "parse_activity", broken)
    async with serving(create_app(settings)) as base:
        status, body, headers = await post(base, orjson.dumps(message("x")))
    assert (status, body["error"]) == (500, "internal_error")
    assert "secret" not in orjson.dumps(body).decode()
    assert headers["Content-Type"] == "application/json"
    assert await stream_lengths(redis, keys) == 0
