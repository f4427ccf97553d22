"""UserTokenClient and the adapter's token methods, against a token service on loopback."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import orjson
import pytest

from tests.support.http import serving
from tests.support.token_service import FakeTokenService
from worker.bot import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ExtendedUserTokenProvider,
    TokenExchangeRequest,
    TurnContext,
    UserTokenClient,
)
from worker.bot.testing import TestAdapter
from worker.bot.user_tokens import USER_TOKEN_CLIENT_KEY
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


def _activity() -> Activity:
    return Activity(
        type="message",
        id="act-1",
        channel_id="msteams",
        service_url="https://smba.example/teams/",
        from_property=ChannelAccount(id="u1"),
        recipient=ChannelAccount(id="bot"),
        conversation=ConversationAccount(id="c1"),
        locale="en-US",
    )


@pytest.fixture
async def tokens() -> AsyncIterator[tuple[FakeTokenService, UserTokenClient]]:
    fake = FakeTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(fake.app) as url:
        yield fake, UserTokenClient("app-1", TokenServiceClient(connector, url))
    await connector.aclose()


def test_the_sign_in_state_names_the_bot_connection_and_conversation() -> None:
    state = UserTokenClient.create_token_exchange_state("app-1", "graph", _activity())
    decoded = orjson.loads(base64.b64decode(state))
    assert decoded["connectionName"] == "graph"
    assert decoded["msAppId"] == "app-1"
    assert decoded["conversation"]["activityId"] == "act-1"
    assert decoded["conversation"]["user"] == {"id": "u1"}
    assert decoded["conversation"]["serviceUrl"] == "https://smba.example/teams/"


async def test_arguments_are_checked_before_any_call(
    tokens: tuple[FakeTokenService, UserTokenClient],
) -> None:
    fake, client = tokens
    with pytest.raises(TypeError, match="connection_name"):
        await client.get_user_token("u1", "", "msteams", None)
    with pytest.raises(TypeError, match="user_id"):
        await client.sign_out_user(None, "graph", "msteams")  # type: ignore[arg-type]
    assert fake.received == []


async def test_the_adapter_methods_act_for_the_turn_user(
    tokens: tuple[FakeTokenService, UserTokenClient],
) -> None:
    fake, client = tokens
    fake.exchangeable[("u1", "graph", "sso")] = "graph-token"
    seen: list[object] = []

    async def logic(context: TurnContext) -> None:
        context.turn_state[USER_TOKEN_CLIENT_KEY] = client
        adapter = context.adapter
        assert isinstance(adapter, ExtendedUserTokenProvider)
        seen.append(await adapter.get_user_token(context, "graph"))
        resource = await adapter.get_sign_in_resource(context, "graph")
        seen.append(resource.sign_in_link is not None)
        exchanged = await adapter.exchange_token(
            context, "graph", None, TokenExchangeRequest(token="sso")
        )
        seen.append(exchanged.token)
        seen.append((await adapter.get_user_token(context, "graph")) == exchanged)

    await TestAdapter(logic).receive_activity(_activity())
    assert seen == [None, True, "graph-token", True]
    assert {r.query.get("userId") for r in fake.received if "usertoken" in r.path} == {"u1"}


async def test_without_a_token_client_the_error_says_what_is_missing() -> None:
    async def logic(context: TurnContext) -> None:
        assert isinstance(context.adapter, ExtendedUserTokenProvider)
        await context.adapter.get_user_token(context, "graph")

    with pytest.raises(RuntimeError, match="no UserTokenClient"):
        await TestAdapter(logic).receive_activity(_activity())
