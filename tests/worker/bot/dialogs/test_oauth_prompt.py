"""OAuthPrompt against a token service on loopback: the card, magic codes, Teams' verifyState
and SSO exchange invokes, timeouts and validators."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.http import serving
from tests.support.token_client import WithTokenClient
from turnstream.dev_token_service import DevTokenService
from worker.bot import Activity, ActivityTypes, UserTokenClient
from worker.bot.dialogs import (
    ComponentDialog,
    OAuthPrompt,
    OAuthPromptSettings,
    PromptOptions,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.dialogs.dialog import DialogTurnResult
from worker.bot.invoke import INVOKE_RESPONSE_KEY, InvokeResponse
from worker.bot.testing import DialogTestClient, TestAdapter
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient

USER = "User1"  # the TestAdapter's default user (botbuilder's)


class SignIn(ComponentDialog):
    def __init__(self, settings: OAuthPromptSettings) -> None:
        super().__init__("sign-in")
        self.add_dialog(OAuthPrompt("oauth", settings))
        self.add_dialog(WaterfallDialog("flow", [self.ask, self.done]))
        self.initial_dialog_id = "flow"

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("oauth", PromptOptions(prompt="Please sign in"))

    async def done(self, step: WaterfallStepContext) -> DialogTurnResult:
        token = step.result
        await step.context.send_activity(f"token: {token.token if token else None}")
        return await step.end_dialog(token)


@pytest.fixture
async def service() -> AsyncIterator[tuple[DevTokenService, UserTokenClient]]:
    fake = DevTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(fake.app) as url:
        yield fake, UserTokenClient("app-1", TokenServiceClient(connector, url))
    await connector.aclose()


def _client(tokens: UserTokenClient, channel: str = "test", **settings: Any) -> DialogTestClient:
    dialog = SignIn(OAuthPromptSettings("graph", "Sign in", text="to read your mail", **settings))
    return DialogTestClient(channel, dialog, middlewares=[WithTokenClient(tokens)])


def _invoke(client: DialogTestClient, name: str, value: Any) -> Activity:
    activity = client.test_adapter.make_activity()
    activity.type = ActivityTypes.INVOKE
    activity.name = name
    activity.value = value
    return activity


async def _invoke_answer(client: DialogTestClient, activity: Activity) -> InvokeResponse:
    context = await client.test_adapter.receive_activity(activity)
    sent = context.turn_state[INVOKE_RESPONSE_KEY]
    assert isinstance(sent.value, InvokeResponse)
    return sent.value


async def test_an_oauth_card_then_a_magic_code_signs_the_user_in(
    service: tuple[DevTokenService, UserTokenClient],
) -> None:
    fake, tokens = service
    client = _client(tokens)
    card = await client.send_activity("hi")
    assert card is not None and card.text == "Please sign in"
    (attachment,) = card.attachments or []
    assert attachment.content_type == "application/vnd.microsoft.card.oauth"
    content = attachment.content  # as the connector received it
    assert content["connectionName"] == "graph" and content["text"] == "to read your mail"
    (button,) = content["buttons"]
    assert (button["type"], button["title"]) == ("signin", "Sign in")
    assert "value" not in button  # Web Chat and others fetch the link themselves
    assert content["tokenExchangeResource"]["uri"] == "api://bot"

    assert await client.send_activity("what?") is None  # not a code: still waiting
    fake.magic_codes[(USER, "graph", "123456")] = "mail-token"
    reply = await client.send_activity("my code is 123456")
    assert reply is not None and reply.text == "token: mail-token"


async def test_a_signed_in_user_gets_the_token_at_once(
    service: tuple[DevTokenService, UserTokenClient],
) -> None:
    fake, tokens = service
    fake.tokens[(USER, "graph", "test")] = "kept"
    reply = await _client(tokens).send_activity("hi")
    assert reply is not None and reply.text == "token: kept"


async def test_teams_gets_the_link_and_verify_state_is_answered(
    service: tuple[DevTokenService, UserTokenClient],
) -> None:
    fake, tokens = service
    client = _client(tokens, "msteams")
    card = await client.send_activity("hi")
    assert card is not None
    (attachment,) = card.attachments or []
    assert "/signin?state=" in attachment.content["buttons"][0]["value"]

    unknown = await _invoke_answer(client, _invoke(client, "signin/verifyState", {"state": "1"}))
    assert unknown.status == 404
    fake.magic_codes[(USER, "graph", "654321")] = "teams-token"
    ok = await _invoke_answer(client, _invoke(client, "signin/verifyState", {"state": "654321"}))
    assert ok.status == 200
    reply = client.get_next_reply()
    assert reply is not None and reply.text == "token: teams-token"


async def test_teams_sso_exchange_answers_200_412_or_400(
    service: tuple[DevTokenService, UserTokenClient],
) -> None:
    fake, tokens = service
    client = _client(tokens, "msteams")
    await client.send_activity("hi")
    client.get_next_reply()

    wrong = await _invoke_answer(
        client,
        _invoke(
            client, "signin/tokenExchange", {"id": "x1", "connectionName": "other", "token": "t"}
        ),
    )
    assert wrong.status == 400 and "'other'" in wrong.body.failure_detail
    missing = await _invoke_answer(client, _invoke(client, "signin/tokenExchange", {"id": "x2"}))
    assert missing.status == 400

    refused = await _invoke_answer(
        client,
        _invoke(
            client, "signin/tokenExchange", {"id": "x3", "connectionName": "graph", "token": "sso"}
        ),
    )
    assert refused.status == 412
    assert (
        refused.body.failure_detail
        == "The bot is unable to exchange token. Proceed with regular login."
    )

    fake.exchangeable[(USER, "graph", "sso")] = "graph-token"
    ok = await _invoke_answer(
        client,
        _invoke(
            client, "signin/tokenExchange", {"id": "x4", "connectionName": "graph", "token": "sso"}
        ),
    )
    assert ok.status == 200
    assert (ok.body.id, ok.body.connection_name, ok.body.failure_detail) == ("x4", "graph", None)
    reply = client.get_next_reply()
    assert reply is not None and reply.text == "token: graph-token"


async def test_a_token_response_event_completes_the_sign_in(
    service: tuple[DevTokenService, UserTokenClient],
) -> None:
    _, tokens = service
    client = _client(tokens, "webchat")
    await client.send_activity("hi")
    client.get_next_reply()
    event = client.test_adapter.make_activity()
    event.type = ActivityTypes.EVENT
    event.name = "tokens/response"
    event.value = {"connectionName": "graph", "token": "from-event"}
    reply = await client.send_activity(event)
    assert reply is not None and reply.text == "token: from-event"


async def test_after_the_timeout_the_prompt_ends_with_none(
    service: tuple[DevTokenService, UserTokenClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, tokens = service
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    client = _client(tokens, timeout=60_000)
    await client.send_activity("hi")
    client.get_next_reply()
    now[0] += 61
    fake.magic_codes[(USER, "graph", "123456")] = "late"
    reply = await client.send_activity("123456")
    assert reply is not None and reply.text == "token: None"


async def test_end_on_invalid_message(service: tuple[DevTokenService, UserTokenClient]) -> None:
    _, tokens = service
    client = _client(tokens, end_on_invalid_message=True)
    await client.send_activity("hi")
    client.get_next_reply()
    reply = await client.send_activity("never mind")
    assert reply is not None and reply.text == "token: None"


def test_settings_are_required() -> None:
    with pytest.raises(TypeError, match="OAuthPromptSettings"):
        OAuthPrompt("oauth", None)  # type: ignore[arg-type]


async def test_the_test_kits_fake_token_store_signs_in_as_botbuilders_does() -> None:
    """Without a token service, under the test kit: the TestAdapter's own token store."""
    dialog = SignIn(OAuthPromptSettings("graph", "Sign in"))
    client = DialogTestClient(TestAdapter(), dialog)
    client.test_adapter.add_user_token("graph", "test", USER, "kit-token", magic_code="112233")
    card = await client.send_activity("hi")
    assert card is not None and card.attachments
    reply = await client.send_activity("112233")
    assert reply is not None and reply.text == "token: kit-token"
