"""The user token service's messages: tokens, token requests, and the sign-in exchange
(`signin/tokenExchange` invokes, the state a sign-in link carries). botbuilder-python's names;
camelCase on the wire as every `Model`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.activity import ConversationReference, Model
from shared.cards import TokenExchangeResource, TokenPostResource


@dataclass
class TokenResponse(Model):
    """A user's token for one OAuth connection, as the token service returns it."""

    connection_name: str | None = None
    token: str | None = None
    expiration: str | None = None
    """When the token expires, as the service wrote it (ISO 8601)."""
    channel_id: str | None = None


@dataclass
class TokenRequest(Model):
    """A request for a token from a provider, with provider-specific settings."""

    provider: str | None = None
    settings: dict[str, Any] | None = None


@dataclass
class TokenExchangeState(Model):
    """What a sign-in link carries back to the bot: whose conversation asked, and where."""

    connection_name: str | None = None
    conversation: ConversationReference | None = None
    relates_to: ConversationReference | None = None
    bot_url: str | None = None
    ms_app_id: str | None = None


@dataclass
class TokenExchangeInvokeRequest(Model):
    """The value of a `signin/tokenExchange` invoke: a token to exchange (Teams SSO)."""

    id: str | None = None
    connection_name: str | None = None
    token: str | None = None
    properties: dict[str, Any] | None = None


@dataclass
class TokenExchangeInvokeResponse(Model):
    """The answer to a `signin/tokenExchange` invoke (with 412 when the exchange failed)."""

    id: str | None = None
    connection_name: str | None = None
    failure_detail: str | None = None
    properties: dict[str, Any] | None = None


@dataclass
class TokenStatus(Model):
    """Whether the user has a token for one connection (`GetTokenStatus`)."""

    channel_id: str | None = None
    connection_name: str | None = None
    has_token: bool | None = None
    service_provider_display_name: str | None = None


@dataclass
class TokenExchangeRequest(Model):
    """What is exchanged for a user token: a token the channel obtained for the user (SSO), or
    a resource URI."""

    uri: str | None = None
    token: str | None = None


@dataclass
class SignInUrlResponse(Model):
    """Where the user signs in (`signInLink`), and what a channel may exchange silently."""

    sign_in_link: str | None = None
    token_exchange_resource: TokenExchangeResource | None = None
    token_post_resource: TokenPostResource | None = None
