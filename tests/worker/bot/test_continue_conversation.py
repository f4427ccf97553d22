"""`continue_conversation` as botbuilder's samples call it: (reference, callback, bot_id,
claims_identity, audience). What it queues, on real Redis; what it refuses, before anything."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from shared.protocol.keys import Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.redis.connection import Redis
from tests.support.streams import envelopes_in, stream_lengths
from worker.bot.adapter import ConnectorAdapter
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy

REFERENCE = {
    "channelId": "test",
    "serviceUrl": "http://127.0.0.1:9/",
    "conversation": {"id": "c-1"},
    "user": {"id": "u-1"},
    "bot": {"id": "bot-1"},
}


async def hello(turn_context: TurnContext) -> None:
    await turn_context.send_activity("hello")


@pytest.fixture
async def client() -> AsyncIterator[ConnectorClient]:
    made = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield made
    await made.aclose()


def _adapter(
    connector: ConnectorClient, redis: Redis, keys: Keyspace, app_id: str | None
) -> ConnectorAdapter:
    return ConnectorAdapter(connector, proactive=ProactiveQueue(redis, keys), app_id=app_id)


async def test_the_samples_call_with_the_app_id_queues_the_turn(
    client: ConnectorClient, redis: Redis, keys: Keyspace
) -> None:
    adapter = _adapter(client, redis, keys, "app-1")

    await adapter.continue_conversation(REFERENCE, hello, "app-1")
    await adapter.continue_conversation(REFERENCE, hello, bot_id="app-1", audience=None)

    (envelope, again) = await envelopes_in(redis, keys.stream(keys.shard_of("test/c-1")))
    assert envelope.proactive is not None
    assert envelope.proactive.callback == f"{__name__}:hello"
    assert again.proactive == envelope.proactive


@pytest.mark.parametrize("bot_id", [None, "", uuid.uuid4(), "any-id"])
async def test_in_anonymous_mode_any_bot_id_is_accepted(
    client: ConnectorClient, redis: Redis, keys: Keyspace, bot_id: Any
) -> None:
    # The SDK's proactive sample passes a random uuid when it has no app id.
    adapter = _adapter(client, redis, keys, None)

    await adapter.continue_conversation(REFERENCE, hello, bot_id)

    assert await stream_lengths(redis, keys) == 1


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"bot_id": "other-app"}, "'other-app' is not this worker's app id"),
        ({"claims_identity": SimpleNamespace(claims={"aud": "other"})}, "'other'"),
        ({"audience": "https://api.botframework.us"}, "skills are not supported"),
    ],
)
async def test_another_identity_is_refused_and_nothing_is_queued(
    client: ConnectorClient,
    redis: Redis,
    keys: Keyspace,
    arguments: dict[str, Any],
    needle: str,
) -> None:
    adapter = _adapter(client, redis, keys, "app-1")

    with pytest.raises(ValueError, match=needle):
        await adapter.continue_conversation(REFERENCE, hello, **arguments)

    assert await stream_lengths(redis, keys) == 0


async def test_the_claims_of_its_own_app_and_the_default_audience_are_accepted(
    client: ConnectorClient, redis: Redis, keys: Keyspace
) -> None:
    adapter = _adapter(client, redis, keys, "app-1")
    identity = SimpleNamespace(claims={"aud": "app-1", "appid": "app-1"})

    await adapter.continue_conversation(
        REFERENCE, hello, None, identity, "https://api.botframework.com"
    )

    assert await stream_lengths(redis, keys) == 1


async def test_without_a_worker_a_lambda_is_refused_with_the_reason(
    client: ConnectorClient, redis: Redis, keys: Keyspace
) -> None:
    adapter = _adapter(client, redis, keys, None)

    with pytest.raises(TypeError, match="cannot be a proactive callback"):
        await adapter.continue_conversation(
            REFERENCE, lambda turn_context: turn_context.send_activity("hi")
        )

    assert await stream_lengths(redis, keys) == 0
