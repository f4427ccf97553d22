"""A Teams bot signing its user in as botbuilder's Teams auth samples do: the dialog with the
OAuthPrompt runs from `on_teams_signin_verify_state`, and the prompt's own answer to the invoke
is the one Teams gets (the handler's default 200 is not sent on top of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.http import serving
from tests.support.teams import invoke, teams_activity
from tests.support.token_client import WithTokenClient
from turnstream.dev_token_service import DevTokenService
from worker.bot import (
    Activity,
    AutoSaveStateMiddleware,
    ConversationState,
    MemoryStorage,
    TurnContext,
    UserTokenClient,
)
from worker.bot.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    OAuthPrompt,
    OAuthPromptSettings,
    PromptOptions,
    WaterfallDialog,
    WaterfallStepContext,
    run_dialog,
)
from worker.bot.invoke import INVOKE_RESPONSE_KEY
from worker.bot.teams import TeamsActivityHandler
from worker.bot.testing import TestAdapter
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


class SignIn(ComponentDialog):
    def __init__(self) -> None:
        super().__init__("sign-in")
        self.add_dialog(OAuthPrompt("oauth", OAuthPromptSettings("graph", "Sign in", "to go on")))
        self.add_dialog(WaterfallDialog("flow", [self.ask, self.done]))
        self.initial_dialog_id = "flow"

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("oauth", PromptOptions(prompt="Please sign in"))

    async def done(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"signed in: {step.result.token if step.result else None}")
        return await step.end_dialog()


class TeamsAuthBot(TeamsActivityHandler):
    def __init__(self, conversation_state: ConversationState) -> None:
        self.dialog_state = conversation_state.create_property("DialogState")

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await run_dialog(SignIn(), turn_context, self.dialog_state)

    async def on_teams_signin_verify_state(self, turn_context: TurnContext) -> None:
        await run_dialog(SignIn(), turn_context, self.dialog_state)


@pytest.fixture
async def tokens() -> AsyncIterator[tuple[DevTokenService, UserTokenClient]]:
    fake = DevTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(fake.app) as url:
        yield fake, UserTokenClient("app-1", TokenServiceClient(connector, url))
    await connector.aclose()


async def test_verify_state_is_answered_by_the_prompt_run_from_the_teams_handler(
    tokens: tuple[DevTokenService, UserTokenClient],
) -> None:
    fake, client = tokens
    state = ConversationState(MemoryStorage())
    adapter = TestAdapter(TeamsAuthBot(state).on_turn).use(
        WithTokenClient(client), AutoSaveStateMiddleware(state)
    )
    await adapter.receive_activity(Activity.from_dict(teams_activity("message", text="hi")))
    (card,) = adapter.activity_buffer
    assert card.attachments is not None
    adapter.activity_buffer.clear()

    unknown = await adapter.receive_activity(
        Activity.from_dict(invoke("signin/verifyState", {"state": "1"}, activity_id="v-1"))
    )
    assert unknown.turn_state[INVOKE_RESPONSE_KEY].value.status == 404
    fake.magic_codes[("29:user-1", "graph", "654321")] = "teams-token"
    ok = await adapter.receive_activity(
        Activity.from_dict(invoke("signin/verifyState", {"state": "654321"}, activity_id="v-2"))
    )
    assert ok.turn_state[INVOKE_RESPONSE_KEY].value.status == 200
    assert [a.text for a in adapter.activity_buffer] == ["signed in: teams-token"]
