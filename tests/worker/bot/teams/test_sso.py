"""TeamsSSOTokenExchangeMiddleware against a token service on loopback: the token is exchanged
before the bot sees the invoke, a failed exchange answers 412, and of several clients' invokes
for one exchange only the first reaches the bot (the same activity run again does too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.schema.activity import Activity
from tests.support.http import serving
from tests.support.teams import invoke
from tests.support.token_client import WithTokenClient
from turnstream.dev_token_service import DevTokenService
from worker.bot import InvokeResponse, MemoryStorage, TurnContext, UserTokenClient
from worker.bot.invoke import INVOKE_RESPONSE_KEY
from worker.bot.teams import TeamsActivityHandler, TeamsSSOTokenExchangeMiddleware
from worker.bot.testing import TestAdapter
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


class SsoBot(TeamsActivityHandler):
    def __init__(self) -> None:
        self.exchanges: list[str | None] = []

    async def on_teams_signin_token_exchange(self, turn_context: TurnContext) -> None:
        self.exchanges.append(turn_context.activity.id)


@pytest.fixture
async def adapter() -> AsyncIterator[tuple[TestAdapter, SsoBot, DevTokenService]]:
    fake = DevTokenService()
    fake.exchangeable[("29:user-1", "graph", "sso-token")] = "graph-token"
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    bot = SsoBot()
    async with serving(fake.app) as url:
        client = UserTokenClient("app-1", TokenServiceClient(connector, url))
        test_adapter = TestAdapter(bot.on_turn).use(
            WithTokenClient(client), TeamsSSOTokenExchangeMiddleware(MemoryStorage(), "graph")
        )
        yield test_adapter, bot, fake
    await connector.aclose()


def exchange(activity_id: str, token: str = "sso-token", **fields: Any) -> Activity:
    value = {"id": "exchange-1", "connectionName": "graph", "token": token}
    wire = invoke("signin/tokenExchange", value, activity_id=activity_id, **fields)
    return Activity.from_dict(wire)


async def answer_of(adapter: TestAdapter, activity: Activity) -> InvokeResponse:
    context = await adapter.receive_activity(activity)
    response = context.turn_state[INVOKE_RESPONSE_KEY].value
    assert isinstance(response, InvokeResponse)
    return response


async def test_only_the_first_invoke_of_an_exchange_reaches_the_bot(
    adapter: tuple[TestAdapter, SsoBot, DevTokenService],
) -> None:
    test_adapter, bot, fake = adapter
    first = await answer_of(test_adapter, exchange("from-desktop"))
    second = await answer_of(test_adapter, exchange("from-phone"))
    again = await answer_of(test_adapter, exchange("from-desktop"))  # redelivered
    assert (first.status, second.status, again.status) == (200, 200, 200)
    assert bot.exchanges == ["from-desktop", "from-desktop"]
    exchanged = [r for r in fake.received if r.path == "/api/usertoken/exchange"]
    assert len(exchanged) == 3  # each invoke's token is exchanged, as in botbuilder
    assert exchanged[0].query["userId"] == "29:user-1"
    assert exchanged[0].query["connectionName"] == "graph"
    assert exchanged[0].body == {"token": "sso-token"}


async def test_a_failed_exchange_answers_412_and_the_bot_never_sees_it(
    adapter: tuple[TestAdapter, SsoBot, DevTokenService],
) -> None:
    test_adapter, bot, _ = adapter
    response = await answer_of(test_adapter, exchange("a-1", token="not-consented"))
    assert (response.status, response.body) == (
        412,
        {
            "id": "exchange-1",
            "connectionName": "graph",
            "failureDetail": "The bot is unable to exchange token. Proceed with regular login.",
        },
    )
    assert bot.exchanges == []


async def test_other_activities_pass_untouched(
    adapter: tuple[TestAdapter, SsoBot, DevTokenService],
) -> None:
    test_adapter, bot, fake = adapter
    outside_teams = exchange("w-1", channelId="webchat")
    await test_adapter.receive_activity(outside_teams)
    assert bot.exchanges == ["w-1"]
    assert fake.received == []


def test_it_needs_a_storage_and_a_connection() -> None:
    with pytest.raises(TypeError, match="storage"):
        TeamsSSOTokenExchangeMiddleware(None, "graph")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="connection"):
        TeamsSSOTokenExchangeMiddleware(MemoryStorage(), None)  # type: ignore[arg-type]
