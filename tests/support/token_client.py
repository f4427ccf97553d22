"""Middleware that puts a `UserTokenClient` in every turn's state, as a worker does, for tests
running turns through the test kit against a token service on loopback."""

from __future__ import annotations

from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler
from worker.bot.user_tokens import USER_TOKEN_CLIENT_KEY, UserTokenClient


class WithTokenClient:
    def __init__(self, client: UserTokenClient) -> None:
        self.client = client

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        context.turn_state[USER_TOKEN_CLIENT_KEY] = self.client
        await logic()
