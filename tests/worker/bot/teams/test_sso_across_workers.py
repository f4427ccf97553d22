"""TeamsSSOTokenExchangeMiddleware on a shared RedisStorage: one exchange id reaches the bot
once across adapters (workers), the record expires with the storage's TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.http import serving
from tests.support.token_client import WithTokenClient
from turnstream.dev_token_service import DevTokenService
from worker.bot import Activity, ActivityTypes, RedisStorage, TurnContext, UserTokenClient
from worker.bot.invoke import INVOKE_RESPONSE_KEY, InvokeResponse
from worker.bot.teams import TeamsSSOTokenExchangeMiddleware
from worker.bot.testing import TestAdapter
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


@pytest.fixture
async def tokens() -> AsyncIterator[tuple[DevTokenService, UserTokenClient]]:
    fake = DevTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(fake.app) as url:
        yield fake, UserTokenClient("app-1", TokenServiceClient(connector, url))
    await connector.aclose()


def _worker(storage: RedisStorage, client: UserTokenClient, reached: list[str]) -> TestAdapter:
    """One worker's pipeline: the middleware, then a bot noting which invokes reached it."""

    async def logic(context: TurnContext) -> None:
        reached.append(context.activity.id or "")

    adapter = TestAdapter(logic)
    adapter.use(WithTokenClient(client), TeamsSSOTokenExchangeMiddleware(storage, "graph"))
    return adapter


def _exchange(adapter: TestAdapter, activity_id: str, exchange_id: str, token: str) -> Activity:
    activity = adapter.make_activity()
    activity.id = activity_id
    activity.channel_id = "msteams"
    activity.type = ActivityTypes.INVOKE
    activity.name = "signin/tokenExchange"
    activity.value = {"id": exchange_id, "connectionName": "graph", "token": token}
    return activity


async def _answer(adapter: TestAdapter, activity: Activity) -> InvokeResponse | None:
    context = await adapter.receive_activity(activity)
    sent: Any = context.turn_state.get(INVOKE_RESPONSE_KEY)
    return None if sent is None else sent.value


async def test_one_exchange_id_reaches_the_bot_once_across_workers(
    tokens: tuple[DevTokenService, UserTokenClient], redis: Redis, settings: Settings
) -> None:
    fake, client = tokens
    fake.exchangeable[("User1", "graph", "sso")] = "graph-token"
    reached: list[str] = []
    storage = RedisStorage(redis, key_prefix=settings.key_prefix, ttl_seconds=60)
    first, second = _worker(storage, client, reached), _worker(storage, client, reached)

    assert await _answer(first, _exchange(first, "a1", "x1", "sso")) is None  # the bot's turn
    duplicate = await _answer(second, _exchange(second, "a2", "x1", "sso"))
    assert duplicate is not None and (duplicate.status, duplicate.body) == (200, None)
    assert await _answer(second, _exchange(second, "a3", "x2", "sso")) is None  # a new sign-in
    assert reached == ["a1", "a3"]
    key = Keyspace(settings.key_prefix, settings.shards).state("msteams/Convo1/x1")
    assert 0 < await redis.ttl(key) <= 60  # the record goes away by itself


async def test_a_refused_exchange_is_answered_412_and_not_recorded(
    tokens: tuple[DevTokenService, UserTokenClient], redis: Redis, settings: Settings
) -> None:
    fake, client = tokens
    reached: list[str] = []
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    worker = _worker(storage, client, reached)

    refused = await _answer(worker, _exchange(worker, "a1", "x1", "sso"))
    assert refused is not None and refused.status == 412
    assert refused.body == {
        "id": "x1",
        "connectionName": "graph",
        "failureDetail": "The bot is unable to exchange token. Proceed with regular login.",
    }
    fake.exchangeable[("User1", "graph", "sso")] = "graph-token"
    assert await _answer(worker, _exchange(worker, "a2", "x1", "sso")) is None  # then through
    assert reached == ["a2"]


async def test_other_activities_and_channels_pass_through(
    tokens: tuple[DevTokenService, UserTokenClient], redis: Redis, settings: Settings
) -> None:
    fake, client = tokens
    reached: list[str] = []
    worker = _worker(RedisStorage(redis, key_prefix=settings.key_prefix), client, reached)
    await worker.receive_activity("hello")
    webchat = _exchange(worker, "a2", "x1", "sso")
    webchat.channel_id = "webchat"
    await worker.receive_activity(webchat)
    assert len(reached) == 2
    assert fake.received == []


def test_storage_and_connection_are_required() -> None:
    with pytest.raises(TypeError, match="storage"):
        TeamsSSOTokenExchangeMiddleware(None, "graph")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="connection name"):
        TeamsSSOTokenExchangeMiddleware(RedisStorage(url="redis://127.0.0.1:1"), None)  # type: ignore[arg-type]
