"""The test kit's user token store (botbuilder's TestAdapter sign-in methods) and
MicrosoftAppCredentials as a name for credentials that turnstream's settings hold."""

from __future__ import annotations

import pytest

from worker.bot import MicrosoftAppCredentials, TokenExchangeRequest
from worker.bot.fake_user_tokens import TokenExchangeFailed
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext


def context_of(adapter: TestAdapter, user: str = "user1") -> TurnContext:
    activity = adapter.make_activity("hi")
    assert activity.from_property is not None
    activity.from_property.id = user
    return TurnContext(adapter, activity)


async def test_a_token_is_the_users_for_its_connection_until_signed_out() -> None:
    adapter = TestAdapter()
    context = context_of(adapter)
    assert await adapter.get_user_token(context, "graph") is None
    adapter.add_user_token("graph", "test", "user1", "abc")
    adapter.add_user_token("github", "test", "user1", "def")
    adapter.add_user_token("graph", "test", "someone-else", "xyz")
    token = await adapter.get_user_token(context, "graph", None, MicrosoftAppCredentials(None))
    assert token is not None and (token.token, token.connection_name) == ("abc", "graph")
    statuses = await adapter.get_token_status(context, include_filter="github")
    assert [(s.connection_name, s.has_token) for s in statuses] == [("github", True)]
    aad = await adapter.get_aad_tokens(context, "graph", ["https://graph.example"])
    assert aad["https://graph.example"].token == "abc"
    await adapter.sign_out_user(context, "graph")
    assert await adapter.get_user_token(context, "graph") is None
    assert await adapter.get_user_token(context, "github") is not None
    await adapter.sign_out_user(context)
    assert await adapter.get_token_status(context) == []
    assert await adapter.get_user_token(context_of(adapter, "someone-else"), "graph") is not None


async def test_a_token_added_with_a_magic_code_comes_only_with_that_code() -> None:
    adapter = TestAdapter()
    context = context_of(adapter)
    adapter.add_user_token("graph", "test", "user1", "abc", magic_code="123456")
    assert await adapter.get_user_token(context, "graph") is None
    assert await adapter.get_user_token(context, "graph", "000000") is None
    assert await adapter.get_user_token(context, "graph", "123456") is not None
    assert await adapter.get_user_token(context, "graph") is not None  # kept once released


async def test_sign_in_links_and_token_exchange() -> None:
    adapter = TestAdapter()
    context = context_of(adapter)
    link = await adapter.get_oauth_sign_in_link(context, "graph")
    assert link == "https://fake.com/oauthsignin/graph/test/user1"
    resource = await adapter.get_sign_in_resource_from_user(context, "graph", "user1")
    assert resource.sign_in_link == link
    assert resource.token_exchange_resource is not None
    assert resource.token_exchange_resource.uri == "api://graph/resource"
    adapter.add_exchangeable_token("graph", "test", "user1", "sso-token", "exchanged")
    request = TokenExchangeRequest(token="sso-token")
    exchanged = await adapter.exchange_token(context, "graph", "user1", request)
    assert exchanged is not None and exchanged.token == "exchanged"
    unknown = TokenExchangeRequest(uri="api://other")
    assert await adapter.exchange_token(context, "graph", "user1", unknown) is None
    adapter.throw_on_exchange_request("graph", "test", "user1", "api://other")
    with pytest.raises(TokenExchangeFailed):
        await adapter.exchange_token(context, "graph", "user1", unknown)


def test_app_credentials_name_but_never_fetch_or_show_a_secret() -> None:
    credentials = MicrosoftAppCredentials("app-id", "s3cret", "tenant")
    assert (credentials.microsoft_app_id, credentials.channel_auth_tenant) == ("app-id", "tenant")
    assert "s3cret" not in repr(credentials)
    assert MicrosoftAppCredentials.empty().microsoft_app_id is None
    MicrosoftAppCredentials.trust_service_url("https://smba.example")  # obsolete: nothing
    with pytest.raises(NotImplementedError, match="MicrosoftAppPassword"):
        credentials.get_access_token()
