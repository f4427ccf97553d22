"""TeamsSSOTokenExchangeMiddleware: Teams single sign-on without duplicate sign-ins.

A user signed in to several Teams clients makes each of them send the bot the same
`signin/tokenExchange` invoke (same `value.id`). This middleware exchanges the token with the
token service first (a failure answers 412 with a `TokenExchangeInvokeResponse`, so Teams falls
back to the sign-in card), then lets only the first invoke of an exchange id through; the
others are answered 200 and end there. As botbuilder's, it marks the id in the bot's storage;
with `RedisStorage` the mark is shared by every worker.

Unlike botbuilder's, the mark holds the inbound activity's id: the same activity run again (a
redelivery after a worker crash, a turn re-run after a state conflict) is let through again
instead of being taken for a duplicate.
"""

from __future__ import annotations

import logging

from shared.schema.activity import Activity
from shared.schema.tokens import TokenExchangeInvokeResponse, TokenExchangeRequest, TokenResponse
from worker.bot.invoke import invoke_response
from worker.bot.storage import ETAG, IF_ABSENT, EtagConflict, Storage
from worker.bot.teams.teams_info import MS_TEAMS
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler
from worker.bot.user_tokens import TokensOfTurn
from worker.connector.errors import ConnectorError

log = logging.getLogger(__name__)

TOKEN_EXCHANGE = "signin/tokenExchange"
PRECONDITION_FAILED = 412
FAILURE_DETAIL = "The bot is unable to exchange token. Proceed with regular login."


class TeamsSSOTokenExchangeMiddleware:
    """Add it to the bot's middleware with the storage for the marks and the OAuth connection
    the bot signs in with: `BotApp(bot, middleware=[TeamsSSOTokenExchangeMiddleware(storage,
    "graph")])`."""

    def __init__(self, storage: Storage, connection_name: str) -> None:
        if storage is None:
            raise TypeError("TeamsSSOTokenExchangeMiddleware needs a storage")
        if connection_name is None:
            raise TypeError("TeamsSSOTokenExchangeMiddleware needs a connection name")
        self._storage = storage
        self._connection_name = connection_name

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        activity = context.activity
        if activity.channel_id == MS_TEAMS and activity.name == TOKEN_EXCHANGE:
            if not await self._exchanged(context):
                return
            if not await self._first_of_its_exchange(context):
                return
        await logic()

    async def _exchanged(self, context: TurnContext) -> bool:
        """Exchange the invoke's token; on failure answer 412 and say so."""
        value = context.activity.value if isinstance(context.activity.value, dict) else {}
        connection = value.get("connectionName") or self._connection_name
        response: TokenResponse | None = None
        try:
            response = await TokensOfTurn(context).exchange_token(
                connection, TokenExchangeRequest(token=value.get("token"))
            )
        except (ConnectorError, RuntimeError, TypeError) as e:
            log.warning("Teams SSO token exchange failed: %s", e)
        if response is not None and response.token:
            return True
        failure = TokenExchangeInvokeResponse(
            id=value.get("id"), connection_name=self._connection_name, failure_detail=FAILURE_DETAIL
        )
        await context.send_activity(invoke_response(PRECONDITION_FAILED, failure.to_dict()))
        return False

    async def _first_of_its_exchange(self, context: TurnContext) -> bool:
        """Mark the exchange id as taken by this activity; another activity's mark means this
        invoke is a duplicate: answered 200, and the turn ends."""
        key = _mark_key(context.activity)
        mine = context.activity.id or ""
        try:
            await self._storage.write({key: {"activityId": mine, ETAG: IF_ABSENT}})
            return True
        except EtagConflict:
            marked = await self._storage.read([key])
            if marked.get(key, {}).get("activityId") == mine:
                return True  # this same activity, run again
        await context.send_activity(invoke_response(200))
        return False


def _mark_key(activity: Activity) -> str:
    """`{channelId}/{conversationId}/{value.id}`, botbuilder's key."""
    if not activity.channel_id:
        raise TypeError("the token exchange invoke has no channelId")
    if activity.conversation is None or not activity.conversation.id:
        raise TypeError("the token exchange invoke has no conversation id")
    value = activity.value if isinstance(activity.value, dict) else {}
    if not value.get("id"):
        raise ValueError("invalid signin/tokenExchange: the value has no id")
    return f"{activity.channel_id}/{activity.conversation.id}/{value['id']}"
