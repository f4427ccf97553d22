"""The test kit's user token store: botbuilder's TestAdapter sign-in methods, over tokens the
test adds (`add_user_token`, `add_exchangeable_token`), so a bot's sign-in code runs in tests
without a token service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shared.schema.cards import TokenExchangeResource
from shared.schema.tokens import SignInUrlResponse, TokenExchangeRequest, TokenResponse, TokenStatus
from worker.bot.app_credentials import MicrosoftAppCredentials
from worker.bot.turn_context import TurnContext


@dataclass(frozen=True)
class _Key:
    connection_name: str
    channel_id: str
    user_id: str


class TokenExchangeFailed(Exception):
    """What `exchange_token` raises for an exchange the test said must fail."""


class FakeUserTokenStore:
    """User tokens kept in memory by (connection, channel, user); mixed into `TestAdapter`.

    The `oauth_app_credentials` arguments are accepted for botbuilder's signatures and unused.
    """

    def __init__(self) -> None:
        self._tokens: dict[_Key, str] = {}
        self._waiting_for_code: dict[_Key, tuple[str, str]] = {}  # key -> (magic code, token)
        self._exchangeable: dict[tuple[_Key, str], str | None] = {}  # None: the exchange fails

    def add_user_token(
        self,
        connection_name: str,
        channel_id: str,
        user_id: str,
        token: str,
        magic_code: str | None = None,
    ) -> None:
        """The user has `token` for the connection; with `magic_code`, only once the bot asks
        for the token with that code (as after a sign-in card)."""
        key = _Key(connection_name, channel_id, user_id)
        if magic_code:
            self._waiting_for_code[key] = (magic_code, token)
        else:
            self._tokens[key] = token

    def add_exchangeable_token(
        self,
        connection_name: str,
        channel_id: str,
        user_id: str,
        exchangeable_item: str,
        token: str,
    ) -> None:
        """`exchange_token` of `exchangeable_item` (a token or a URI) gives `token`."""
        self._exchangeable[(_Key(connection_name, channel_id, user_id), exchangeable_item)] = token

    def throw_on_exchange_request(
        self, connection_name: str, channel_id: str, user_id: str, exchangeable_item: str
    ) -> None:
        """`exchange_token` of `exchangeable_item` raises `TokenExchangeFailed`."""
        self._exchangeable[(_Key(connection_name, channel_id, user_id), exchangeable_item)] = None

    async def get_user_token(
        self,
        context: TurnContext,
        connection_name: str,
        magic_code: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> TokenResponse | None:
        """The user's token for the connection, or None; the right `magic_code` releases a
        token added with one."""
        key = _user_key(context, connection_name)
        waiting = self._waiting_for_code.get(key)
        if magic_code and waiting is not None and waiting[0] == magic_code:
            self._tokens[key] = waiting[1]
            del self._waiting_for_code[key]
        token = self._tokens.get(key)
        if token is None:
            return None
        return TokenResponse(
            connection_name=connection_name, token=token, channel_id=key.channel_id
        )

    async def sign_out_user(
        self,
        context: TurnContext,
        connection_name: str | None = None,
        user_id: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> None:
        """Forget the user's tokens: for one connection, or (None) for all."""
        key = _user_key(context, connection_name or "", user_id)
        for stored in list(self._tokens):
            same_user = (stored.channel_id, stored.user_id) == (key.channel_id, key.user_id)
            if same_user and connection_name in (None, stored.connection_name):
                del self._tokens[stored]

    async def get_oauth_sign_in_link(
        self,
        context: TurnContext,
        connection_name: str,
        final_redirect: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> str:
        key = _user_key(context, connection_name)
        return f"https://fake.com/oauthsignin/{connection_name}/{key.channel_id}/{key.user_id}"

    async def get_sign_in_resource(
        self, turn_context: TurnContext, connection_name: str
    ) -> SignInUrlResponse:
        """`get_sign_in_resource_from_user` for the turn's user."""
        user = _user_key(turn_context, connection_name).user_id
        return await self.get_sign_in_resource_from_user(turn_context, connection_name, user)

    async def get_sign_in_resource_from_user(
        self,
        turn_context: TurnContext,
        connection_name: str,
        user_id: str,
        final_redirect: str | None = None,
    ) -> SignInUrlResponse:
        return await self.get_sign_in_resource_from_user_and_credentials(
            turn_context, None, connection_name, user_id, final_redirect
        )

    async def get_sign_in_resource_from_user_and_credentials(
        self,
        turn_context: TurnContext,
        oauth_app_credentials: MicrosoftAppCredentials | None,
        connection_name: str,
        user_id: str,
        final_redirect: str | None = None,
    ) -> SignInUrlResponse:
        channel_id = turn_context.activity.channel_id
        return SignInUrlResponse(
            sign_in_link=f"https://fake.com/oauthsignin/{connection_name}/{channel_id}/{user_id}",
            token_exchange_resource=TokenExchangeResource(
                id=str(uuid.uuid4()), uri=f"api://{connection_name}/resource"
            ),
        )

    async def get_token_status(
        self,
        context: TurnContext,
        connection_name: str | None = None,
        user_id: str | None = None,
        include_filter: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> list[TokenStatus]:
        """One status per connection the user has a token for (`include_filter`: a comma list
        of connection names to keep)."""
        key = _user_key(context, connection_name or "", user_id)
        wanted = {n.strip() for n in include_filter.split(",")} if include_filter else None
        return [
            TokenStatus(channel_id=s.channel_id, connection_name=s.connection_name, has_token=True)
            for s in self._tokens
            if (s.channel_id, s.user_id) == (key.channel_id, key.user_id)
            and (wanted is None or s.connection_name in wanted)
        ]

    async def get_aad_tokens(
        self,
        context: TurnContext,
        connection_name: str,
        resource_urls: list[str],
        user_id: str | None = None,
        oauth_app_credentials: MicrosoftAppCredentials | None = None,
    ) -> dict[str, TokenResponse]:
        """The user's token for the connection, for each resource URL (none if no token)."""
        token = self._tokens.get(_user_key(context, connection_name, user_id))
        if token is None:
            return {}
        return {
            url: TokenResponse(connection_name=connection_name, token=token)
            for url in resource_urls
        }

    async def exchange_token(
        self,
        turn_context: TurnContext,
        connection_name: str,
        user_id: str,
        exchange_request: TokenExchangeRequest,
    ) -> TokenResponse | None:
        return await self.exchange_token_from_credentials(
            turn_context, None, connection_name, user_id, exchange_request
        )

    async def exchange_token_from_credentials(
        self,
        turn_context: TurnContext,
        oauth_app_credentials: MicrosoftAppCredentials | None,
        connection_name: str,
        user_id: str,
        exchange_request: TokenExchangeRequest,
    ) -> TokenResponse | None:
        """The token added for what the request carries (its token, else its URI), or None."""
        key = _Key(connection_name, turn_context.activity.channel_id or "", user_id)
        item = exchange_request.token or exchange_request.uri or ""
        if (key, item) not in self._exchangeable:
            return None
        token = self._exchangeable[(key, item)]
        if token is None:
            raise TokenExchangeFailed(f"exchanging the token for {connection_name} failed")
        return TokenResponse(
            channel_id=key.channel_id, connection_name=connection_name, token=token
        )


def _user_key(context: TurnContext, connection_name: str, user_id: str | None = None) -> _Key:
    activity = context.activity
    sender = activity.from_property.id if activity.from_property else None
    return _Key(connection_name, activity.channel_id or "", user_id or sender or "")
