"""The token service client against a token service on loopback (real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.tokens import TokenExchangeRequest
from tests.support.http import serving
from tests.support.token_service import FakeTokenService
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


class FixedToken:
    async def authorization(self, service_url: str) -> str | None:
        return "Bearer bot-token"


@pytest.fixture
async def service() -> AsyncIterator[tuple[FakeTokenService, TokenServiceClient]]:
    fake = FakeTokenService()
    connector = ConnectorClient.create(
        timeout_seconds=5, credentials=FixedToken(), policy=OutboundPolicy(allow_private=True)
    )
    async with serving(fake.app) as url:
        yield fake, TokenServiceClient(connector, url)
    await connector.aclose()


async def test_get_token_none_before_sign_in_then_by_magic_code(
    service: tuple[FakeTokenService, TokenServiceClient],
) -> None:
    fake, client = service
    assert await client.get_token("u1", "graph", "msteams") is None
    fake.magic_codes[("u1", "graph", "123456")] = "user-token"
    token = await client.get_token("u1", "graph", "msteams", code="123456")
    assert token is not None
    assert (token.token, token.connection_name, token.channel_id) == (
        "user-token",
        "graph",
        "msteams",
    )
    assert await client.get_token("u1", "graph", "msteams") == token  # kept by the service
    first = fake.received[0]
    assert (first.method, first.path) == ("GET", "/api/usertoken/GetToken")
    assert first.query == {"userId": "u1", "connectionName": "graph", "channelId": "msteams"}
    assert first.authorization == "Bearer bot-token"


async def test_sign_in_resource(
    service: tuple[FakeTokenService, TokenServiceClient],
) -> None:
    _, client = service
    resource = await client.get_sign_in_resource("abc", final_redirect="https://x.example")
    assert resource.sign_in_link == "https://signin.example/?state=abc"
    assert resource.token_exchange_resource is not None
    assert resource.token_exchange_resource.uri == "api://bot"


async def test_status_aad_tokens_and_sign_out(
    service: tuple[FakeTokenService, TokenServiceClient],
) -> None:
    fake, client = service
    fake.tokens[("u1", "graph", "webchat")] = "t"
    (status,) = await client.get_token_status("u1", "webchat")
    assert (status.connection_name, status.has_token) == ("graph", True)
    tokens = await client.get_aad_tokens("u1", "graph", ["https://graph.microsoft.com"], "webchat")
    assert tokens["https://graph.microsoft.com"].token == "aad:https://graph.microsoft.com"
    await client.sign_out("u1", "graph", "webchat")
    assert await client.get_token("u1", "graph", "webchat") is None


async def test_exchange_gives_a_token_or_a_clear_refusal(
    service: tuple[FakeTokenService, TokenServiceClient],
) -> None:
    fake, client = service
    fake.exchangeable[("u1", "graph", "sso-token")] = "graph-token"
    token = await client.exchange("u1", "graph", "msteams", TokenExchangeRequest(token="sso-token"))
    assert token.token == "graph-token"
    assert fake.received[-1].body == {"token": "sso-token"}

    with pytest.raises(ConnectorError) as refused:
        await client.exchange("u1", "graph", "msteams", TokenExchangeRequest(token="other"))
    assert refused.value.status == 400
    assert refused.value.code == "ConsentRequired"


async def test_errors_never_carry_the_query(
    service: tuple[FakeTokenService, TokenServiceClient],
) -> None:
    _, client = service
    with pytest.raises(ConnectorError) as refused:
        await client.exchange("u1", "graph", "msteams", TokenExchangeRequest(token="x"))
    assert "?" not in str(refused.value) and "u1" not in str(refused.value)
    assert refused.value.url.endswith("/api/usertoken/exchange")
