"""AutoSignInMiddleware: the interrupted message runs once the user signed in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.auto_sign_in_bot import SignedInEcho
from tests.support.http import serving
from tests.support.token_client import WithTokenClient
from turnstream.dev_token_service import DevTokenService
from worker.bot import (
    ActivityTypes,
    AutoSaveStateMiddleware,
    ConversationState,
    MemoryStorage,
    UserTokenClient,
)
from worker.bot.dialogs import AutoSignInMiddleware, OAuthPromptSettings
from worker.bot.invoke import INVOKE_RESPONSE_KEY
from worker.bot.testing import TestAdapter
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient

USER = "User1"  # the TestAdapter's default user (botbuilder's)


@pytest.fixture
async def service() -> AsyncIterator[tuple[DevTokenService, TestAdapter]]:
    fake = DevTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(fake.app) as url:
        client = UserTokenClient("app-1", TokenServiceClient(connector, url))
        state = ConversationState(MemoryStorage())
        adapter = TestAdapter(SignedInEcho().on_turn).use(
            WithTokenClient(client),
            AutoSaveStateMiddleware(state),
            AutoSignInMiddleware(state, OAuthPromptSettings("graph", "Sign in", timeout=60_000)),
        )
        yield fake, adapter
    await connector.aclose()


async def test_the_message_that_asked_for_sign_in_runs_after_it(
    service: tuple[DevTokenService, TestAdapter],
) -> None:
    fake, adapter = service
    flow = await adapter.send("what is on my calendar?")
    card = adapter.get_next_activity()
    assert card is not None and card.attachments is not None
    assert card.attachments[0].content_type == "application/vnd.microsoft.card.oauth"
    await flow.assert_no_reply()

    await (await adapter.send("still there?")).assert_no_reply()  # waiting for the code
    fake.magic_codes[(USER, "graph", "123456")] = "cal-token"
    await adapter.test("123456", "what is on my calendar? (as cal-token)")
    await adapter.test("and tomorrow?", "and tomorrow? (as cal-token)")  # signed in now


async def test_a_signed_in_user_goes_straight_through(
    service: tuple[DevTokenService, TestAdapter],
) -> None:
    fake, adapter = service
    fake.tokens[(USER, "graph", "test")] = "kept"
    await adapter.test("hi", "hi (as kept)")


async def test_teams_verify_state_completes_it_and_is_answered(
    service: tuple[DevTokenService, TestAdapter],
) -> None:
    fake, adapter = service
    await adapter.send("hello")
    adapter.get_next_activity()  # the card
    fake.magic_codes[(USER, "graph", "654321")] = "teams-token"
    invoke = adapter.make_activity()
    invoke.type = ActivityTypes.INVOKE
    invoke.name = "signin/verifyState"
    invoke.value = {"state": "654321"}
    context = await adapter.receive_activity(invoke)
    answer: Any = context.turn_state[INVOKE_RESPONSE_KEY]
    assert answer.value.status == 200
    reply = adapter.get_next_activity()
    assert reply is not None and reply.text == "hello (as teams-token)"
    assert context.activity.type == ActivityTypes.INVOKE  # the turn's own activity put back


async def test_other_activities_pass_when_no_sign_in_is_running(
    service: tuple[DevTokenService, TestAdapter],
) -> None:
    _, adapter = service
    update = adapter.make_activity()
    update.type = ActivityTypes.CONVERSATION_UPDATE
    await adapter.receive_activity(update)
    assert adapter.get_next_activity() is None
