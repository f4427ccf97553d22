"""The Bot Framework token service: the user tokens a bot holds for its users' OAuth
connections (`/api/usertoken/...`) and the sign-in links that get them (`/api/botsignin/...`).

Sent through the worker's `ConnectorClient` (`call`), so the bot's own token, the allow-list,
answer bounds and retries apply as for replies. Tokens are never logged: a failed call's error
names the operation and the status, never the query (which holds no token either) or the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson

from shared.tokens import (
    SignInUrlResponse,
    TokenExchangeRequest,
    TokenResponse,
    TokenStatus,
)
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError

T = TypeVar("T")

DEFAULT_TOKEN_SERVICE_URL = "https://api.botframework.com"


class TokenServiceClient:
    """One method per token service operation; user ids, connection names and channel ids as
    the activity and the bot's Azure Bot resource name them."""

    def __init__(self, connector: ConnectorClient, url: str = DEFAULT_TOKEN_SERVICE_URL) -> None:
        self._connector = connector
        self.url = url.rstrip("/")

    async def _call(
        self,
        method: str,
        base_url: str,
        path: str,
        body: dict[str, Any] | None,
        decode: Callable[[bytes], T],
    ) -> T:
        try:
            return await self._connector.call(method, base_url, path, body, decode)
        except ConnectorError as error:
            raise _without_query(error) from None

    async def get_token(
        self, user_id: str, connection_name: str, channel_id: str | None, code: str | None = None
    ) -> TokenResponse | None:
        """The user's token, or None when the user has not signed in (the service's 404).
        `code` is the magic code a user typed after signing in."""
        query = _query(
            userId=user_id, connectionName=connection_name, channelId=channel_id, code=code
        )
        try:
            return await self._call(
                "GET", self.url, f"api/usertoken/GetToken?{query}", None, _token_response
            )
        except ConnectorError as error:
            if error.status == 404:
                return None
            raise

    async def get_sign_in_resource(
        self, state: str, final_redirect: str | None = None
    ) -> SignInUrlResponse:
        query = _query(state=state, finalRedirect=final_redirect)
        return await self._call(
            "GET", self.url, f"api/botsignin/GetSignInResource?{query}", None, _sign_in_resource
        )

    async def sign_out(
        self, user_id: str, connection_name: str | None, channel_id: str | None
    ) -> None:
        """Forget the user's token for one connection (all connections when None)."""
        query = _query(userId=user_id, connectionName=connection_name, channelId=channel_id)
        await self._call("DELETE", self.url, f"api/usertoken/SignOut?{query}", None, _ignored)

    async def get_token_status(
        self, user_id: str, channel_id: str | None, include: str | None = None
    ) -> list[TokenStatus]:
        query = _query(userId=user_id, channelId=channel_id, include=include)
        return await self._call(
            "GET", self.url, f"api/usertoken/GetTokenStatus?{query}", None, _token_statuses
        )

    async def get_aad_tokens(
        self,
        user_id: str,
        connection_name: str,
        resource_urls: list[str],
        channel_id: str | None,
    ) -> dict[str, TokenResponse]:
        query = _query(userId=user_id, connectionName=connection_name, channelId=channel_id)
        return await self._call(
            "POST",
            self.url,
            f"api/usertoken/GetAadTokens?{query}",
            {"resourceUrls": resource_urls},
            _aad_tokens,
        )

    async def exchange(
        self,
        user_id: str,
        connection_name: str,
        channel_id: str,
        request: TokenExchangeRequest,
    ) -> TokenResponse:
        """Exchange a token the channel got for the user (Teams SSO) for one of the connection's.
        A refusal (the user must consent first) raises `ConnectorError`."""
        query = _query(userId=user_id, connectionName=connection_name, channelId=channel_id)
        return await self._call(
            "POST", self.url, f"api/usertoken/exchange?{query}", request.to_dict(), _token_response
        )


def _without_query(error: ConnectorError) -> ConnectorError:
    """The same error naming the operation's path only: a query may hold a magic code."""
    return ConnectorError(
        error.method,
        error.url.split("?", 1)[0],
        error.status,
        error.body,
        code=error.code,
        message=error.message,
        operation_id=error.operation_id,
        error=error.error,
    )


def _query(**values: str | None) -> str:
    return urlencode({k: v for k, v in values.items() if v is not None})


def _object(payload: bytes) -> dict[str, Any]:
    value = orjson.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _token_response(payload: bytes) -> TokenResponse:
    return TokenResponse.from_dict(_object(payload))


def _sign_in_resource(payload: bytes) -> SignInUrlResponse:
    return SignInUrlResponse.from_dict(_object(payload))


def _token_statuses(payload: bytes) -> list[TokenStatus]:
    value = orjson.loads(payload)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("expected a JSON array of objects")
    return [TokenStatus.from_dict(v) for v in value]


def _aad_tokens(payload: bytes) -> dict[str, TokenResponse]:
    value = _object(payload)
    if not all(isinstance(v, dict) for v in value.values()):
        raise ValueError("expected a JSON object of token responses")
    return {url: TokenResponse.from_dict(token) for url, token in value.items()}


def _ignored(payload: bytes) -> None:
    return None
