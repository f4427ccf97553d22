"""User tokens for the bot's OAuth connections: botbuilder's `UserTokenClient`, over the Bot
Framework token service (`worker.connector.token_service`).

A worker puts one in every turn's `turn_state["UserTokenClient"]`, where botbuilder's
CloudAdapter puts it, and the adapter's `get_user_token(context, ...)` family (botbuilder's
`ExtendedUserTokenProvider`) goes through it: bots and `OAuthPrompt` reach the token service
either way.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from shared.schema.activity import Activity, ConversationReference
from shared.schema.tokens import (
    SignInUrlResponse,
    TokenExchangeRequest,
    TokenExchangeState,
    TokenResponse,
    TokenStatus,
)
from worker.bot.app_credentials import MicrosoftAppCredentials
from worker.bot.turn_context import TurnContext
from worker.connector.token_service import TokenServiceClient

USER_TOKEN_CLIENT_KEY = "UserTokenClient"
"""Where a turn's `UserTokenClient` is in `turn_context.turn_state` (botbuilder's key)."""


class UserTokenClient:
    """The token service for one bot (`app_id`): its users' tokens, sign-in links and SSO
    exchanges. Methods and arguments as botbuilder's `UserTokenClient`."""

    def __init__(self, app_id: str, service: TokenServiceClient) -> None:
        self._app_id = app_id
        self._service = service

    async def get_user_token(
        self, user_id: str, connection_name: str, channel_id: str, magic_code: str | None
    ) -> TokenResponse | None:
        """The user's token for the connection, None when they have not signed in (or the
        magic code is not the one the sign-in page showed)."""
        _require(user_id=user_id, connection_name=connection_name, channel_id=channel_id)
        token = await self._service.get_token(user_id, connection_name, channel_id, magic_code)
        return token if token is not None and token.token else None

    async def get_sign_in_resource(
        self, connection_name: str, activity: Activity, final_redirect: str | None
    ) -> SignInUrlResponse:
        """The sign-in link for the activity's user (and, for SSO channels, what to exchange)."""
        _require(connection_name=connection_name)
        state = self.create_token_exchange_state(self._app_id, connection_name, activity)
        return await self._service.get_sign_in_resource(state, final_redirect)

    async def sign_out_user(
        self, user_id: str, connection_name: str | None, channel_id: str | None
    ) -> None:
        _require(user_id=user_id)
        await self._service.sign_out(user_id, connection_name, channel_id)

    async def get_token_status(
        self, user_id: str, channel_id: str | None, include_filter: str | None = None
    ) -> list[TokenStatus]:
        _require(user_id=user_id)
        return await self._service.get_token_status(user_id, channel_id, include_filter)

    async def get_aad_tokens(
        self,
        user_id: str,
        connection_name: str,
        resource_urls: list[str],
        channel_id: str | None,
    ) -> dict[str, TokenResponse]:
        _require(user_id=user_id, connection_name=connection_name)
        return await self._service.get_aad_tokens(
            user_id, connection_name, list(resource_urls), channel_id
        )

    async def exchange_token(
        self,
        user_id: str,
        connection_name: str,
        channel_id: str,
        exchange_request: TokenExchangeRequest,
    ) -> TokenResponse:
        _require(user_id=user_id, connection_name=connection_name, channel_id=channel_id)
        return await self._service.exchange(user_id, connection_name, channel_id, exchange_request)

    @staticmethod
    def create_token_exchange_state(app_id: str, connection_name: str, activity: Activity) -> str:
        """The `state` of a sign-in link: base64 of the JSON `TokenExchangeState` naming the
        bot, the connection and the conversation to come back to."""
        _require(connection_name=connection_name)
        state = TokenExchangeState(
            connection_name=connection_name,
            conversation=_reference(activity),
            relates_to=activity.relates_to,
            ms_app_id=app_id,
        )
        return base64.b64encode(orjson.dumps(state.to_dict())).decode("ascii")


def _reference(activity: Activity) -> ConversationReference:
    """The conversation the sign-in came from, activity id included (the token service's
    notion of it, unlike `TurnContext.get_conversation_reference`)."""
    return ConversationReference(
        activity_id=activity.id,
        user=activity.from_property,
        bot=activity.recipient,
        conversation=activity.conversation,
        channel_id=activity.channel_id,
        locale=activity.locale,
        service_url=activity.service_url,
    )


def _require(**values: str | None) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} is required (a non-empty string), got {value!r}")


class UserTokenProvider:
    """botbuilder's `UserTokenProvider` methods on the adapter
    (`turn_context.adapter.get_user_token(turn_context, "graph")`), for the user of the turn,
    through the turn's `UserTokenClient`. `oauth_app_credentials` is accepted and not used: the
    worker's own credentials sign every call."""

    async def get_user_token(
        self,
        context: TurnContext,
        connection_name: str,
        magic_code: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> TokenResponse | None:
        user_id, channel_id = _user_of(context)
        return await _client(context).get_user_token(
            user_id, connection_name, channel_id or "", magic_code
        )

    async def sign_out_user(
        self,
        context: TurnContext,
        connection_name: str | None = None,
        user_id: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> None:
        user, channel_id = _user_of(context, user_id)
        await _client(context).sign_out_user(user, connection_name, channel_id)

    async def get_oauth_sign_in_link(
        self,
        context: TurnContext,
        connection_name: str,
        final_redirect: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> str:
        user_id, _ = _user_of(context)
        resource = await self.get_sign_in_resource_from_user(
            context, connection_name, user_id, final_redirect
        )
        return resource.sign_in_link or ""

    async def get_token_status(
        self,
        context: TurnContext,
        connection_name: str | None = None,
        user_id: str | None = None,
        include_filter: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> list[TokenStatus]:
        user, channel_id = _user_of(context, user_id)
        return await _client(context).get_token_status(user, channel_id, include_filter)

    async def get_aad_tokens(
        self,
        context: TurnContext,
        connection_name: str,
        resource_urls: list[str],
        user_id: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> dict[str, TokenResponse]:
        user, channel_id = _user_of(context, user_id)
        return await _client(context).get_aad_tokens(
            user, connection_name, resource_urls, channel_id
        )

    async def get_sign_in_resource_from_user(
        self,
        turn_context: TurnContext,
        connection_name: str,
        user_id: str,
        final_redirect: str | None = None,
    ) -> SignInUrlResponse:
        _user_of(turn_context, user_id)  # the activity must name its user
        return await _client(turn_context).get_sign_in_resource(
            connection_name, turn_context.activity, final_redirect
        )


class ExtendedUserTokenProvider(UserTokenProvider):
    """botbuilder's `ExtendedUserTokenProvider`: sign-in resources (with what an SSO channel
    may exchange) and token exchange, besides `UserTokenProvider`'s methods."""

    async def get_sign_in_resource(
        self, turn_context: TurnContext, connection_name: str
    ) -> SignInUrlResponse:
        user_id, _ = _user_of(turn_context)
        return await self.get_sign_in_resource_from_user(turn_context, connection_name, user_id)

    async def get_sign_in_resource_from_user_and_credentials(
        self,
        turn_context: TurnContext,
        oauth_app_credentials: MicrosoftAppCredentials | None,
        connection_name: str,
        user_id: str,
        final_redirect: str | None = None,
    ) -> SignInUrlResponse:
        return await self.get_sign_in_resource_from_user(
            turn_context, connection_name, user_id, final_redirect
        )

    async def exchange_token(
        self,
        turn_context: TurnContext,
        connection_name: str,
        user_id: str,
        exchange_request: TokenExchangeRequest,
    ) -> TokenResponse | None:
        user, channel_id = _user_of(turn_context, user_id)
        return await _client(turn_context).exchange_token(
            user, connection_name, channel_id or "", exchange_request
        )

    async def exchange_token_from_credentials(
        self,
        turn_context: TurnContext,
        oauth_app_credentials: MicrosoftAppCredentials | None,
        connection_name: str,
        user_id: str,
        exchange_request: TokenExchangeRequest,
    ) -> TokenResponse | None:
        return await self.exchange_token(turn_context, connection_name, user_id, exchange_request)


def _client(context: TurnContext) -> UserTokenClient:
    client = context.turn_state.get(USER_TOKEN_CLIENT_KEY)
    if not isinstance(client, UserTokenClient):
        raise RuntimeError(
            "user sign-in needs the token service: this turn has no UserTokenClient (turns in "
            "a worker have one; in tests, give the TestAdapter a fake token store)"
        )
    return client


def _user_of(context: TurnContext, user_id: str | None = None) -> tuple[str, str | None]:
    """(user id, channel id): the given user, else the activity's sender."""
    activity = context.activity
    user = user_id or (activity.from_property.id if activity.from_property else None)
    if not user:
        raise TypeError("the activity has no from.id: whose token is it?")
    return user, activity.channel_id


class TokensOfTurn:
    """The token calls a sign-in component makes for the user of one turn (`OAuthPrompt`,
    `TeamsSSOTokenExchangeMiddleware`): through the turn's `UserTokenClient` where it has one
    (every turn in a worker), else through the adapter's `ExtendedUserTokenProvider` methods (a
    test adapter with a fake token store, a bot's own adapter). botbuilder's components look in
    the same two places, in that order."""

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        client = context.turn_state.get(USER_TOKEN_CLIENT_KEY)
        self._client = client if isinstance(client, UserTokenClient) else None

    async def get_user_token(
        self, connection_name: str, magic_code: str | None = None
    ) -> TokenResponse | None:
        if self._client is None:
            token: TokenResponse | None = await self._adapter("get_user_token")(
                self._context, connection_name, magic_code
            )
            return token
        user_id, channel_id = _user_of(self._context)
        return await self._client.get_user_token(
            user_id, connection_name, channel_id or "", magic_code
        )

    async def sign_out_user(self, connection_name: str) -> None:
        if self._client is None:
            await self._adapter("sign_out_user")(self._context, connection_name)
            return
        user_id, channel_id = _user_of(self._context)
        await self._client.sign_out_user(user_id, connection_name, channel_id)

    async def get_sign_in_resource(self, connection_name: str) -> SignInUrlResponse:
        if self._client is None:
            resource: SignInUrlResponse = await self._adapter("get_sign_in_resource")(
                self._context, connection_name
            )
            return resource
        return await self._client.get_sign_in_resource(
            connection_name, self._context.activity, None
        )

    async def exchange_token(
        self, connection_name: str, request: TokenExchangeRequest
    ) -> TokenResponse | None:
        user_id, channel_id = _user_of(self._context)
        if self._client is None:
            exchanged: TokenResponse | None = await self._adapter("exchange_token")(
                self._context, connection_name, user_id, request
            )
            return exchanged
        return await self._client.exchange_token(
            user_id, connection_name, channel_id or "", request
        )

    def _adapter(self, method: str) -> Any:
        found = getattr(self._context.adapter, method, None)
        if found is None:
            raise RuntimeError(
                f"sign-in needs the token service: the turn has no UserTokenClient and its "
                f"adapter no {method}"
            )
        return found
