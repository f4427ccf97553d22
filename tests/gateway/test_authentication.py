"""Inbound authentication: real tokens from a loopback identity provider, through real HTTP,
into a real Redis. Every refused request leaves the streams empty."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from gateway.authentication import EMULATOR_ISSUERS, Authenticator
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import envelopes_in, stream_lengths
from turnstream.embedded import free_port
from turnstream.loopback_idp import LoopbackIdentityProvider

SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@pytest.fixture(scope="module")
def idp() -> Iterator[LoopbackIdentityProvider]:
    with LoopbackIdentityProvider() as provider:
        yield provider


@pytest.fixture
def auth_settings(settings: Settings, idp: LoopbackIdentityProvider) -> Settings:
    return dataclasses.replace(settings, app_id=idp.app_id, openid_metadata_url=idp.metadata_url)


@pytest.fixture
async def gateway(auth_settings: Settings) -> AsyncIterator[str]:
    async with serving(create_app(auth_settings)) as base:
        yield base


async def post(
    base: str, activity: dict[str, Any] | bytes, authorization: str | None
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = activity if isinstance(activity, bytes) else orjson.dumps(activity)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/messages", data=body, headers=headers) as response,
    ):
        raw = await response.read()
        return response.status, orjson.loads(raw) if raw else None, dict(response.headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(idp: LoopbackIdentityProvider, header: dict[str, Any]) -> str:
    """The claims of a good token under another header, as `header.payload.`"""
    payload = json.loads(
        base64.urlsafe_b64decode(idp.channel_token(SERVICE_URL).split(".")[1] + "==")
    )
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def _alg_none(idp: LoopbackIdentityProvider) -> str:
    return _unsigned(idp, {"alg": "none", "typ": "JWT", "kid": idp.default_kid})


def _hs256_with_public_key(idp: LoopbackIdentityProvider) -> str:
    """The classic key-confusion forgery: HMAC keyed with the (public) RSA key's PEM."""
    signing_input = _unsigned(idp, {"alg": "HS256", "typ": "JWT", "kid": idp.default_kid})[:-1]
    mac = hmac.new(idp.public_key_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _unknown_kid(idp: LoopbackIdentityProvider) -> str:
    kid = idp.add_key()
    idp.unpublish(kid)  # signs, but the key set never shows it
    return idp.channel_token(SERVICE_URL, kid=kid)


def _tampered(idp: LoopbackIdentityProvider) -> str:
    header, payload, signature = idp.channel_token(SERVICE_URL).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["serviceurl"] = "https://attacker.example/"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


FORGERIES = [
    pytest.param(lambda idp: None, 401, "required", id="no-header"),
    pytest.param(lambda idp: "Basic Ym90OnNlY3JldA==", 401, "Bearer", id="basic-scheme"),
    pytest.param(lambda idp: "Bearer", 401, "Bearer", id="bearer-without-token"),
    pytest.param(lambda idp: "Bearer not-a-jwt", 401, "well-formed", id="malformed-token"),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, issued_at=time.time() - 7200),
        401,
        "expired",
        id="expired",
    ),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, not_before=time.time() + 3600),
        401,
        "not valid yet",
        id="not-yet-valid",
    ),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, audience="another-bot"),
        401,
        "audience",
        id="wrong-audience",
    ),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, issuer="https://evil.example"),
        401,
        "issuer",
        id="wrong-issuer",
    ),
    pytest.param(lambda idp: "Bearer " + _alg_none(idp), 401, "RS256", id="alg-none"),
    pytest.param(
        lambda idp: "Bearer " + _hs256_with_public_key(idp), 401, "RS256", id="hs256-public-key"
    ),
    pytest.param(lambda idp: "Bearer " + _unknown_kid(idp), 401, "unknown key", id="unknown-kid"),
    pytest.param(lambda idp: "Bearer " + _tampered(idp), 401, "signature", id="tampered-claims"),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token("https://attacker.example/"),
        401,
        "serviceurl",
        id="serviceurl-mismatch",
    ),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, drop=("serviceurl",)),
        401,
        "serviceurl",
        id="no-serviceurl-claim",
    ),
    pytest.param(
        lambda idp: "Bearer " + idp.channel_token(SERVICE_URL, drop=("exp",)),
        401,
        "exp",
        id="no-exp-claim",
    ),
]


@pytest.mark.parametrize(("authorization", "status", "needle"), FORGERIES)
async def test_forged_or_bad_tokens_are_refused_and_nothing_is_queued(
    gateway: str,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    authorization: Any,
    status: int,
    needle: str,
) -> None:
    got, body, headers = await post(
        gateway, message("hi", service_url=SERVICE_URL), authorization(idp)
    )
    assert (got, body["error"]) == (status, "unauthorized")
    assert needle in body["message"]
    assert headers["WWW-Authenticate"] == "Bearer"
    assert await stream_lengths(redis, keys) == 0


async def test_a_key_not_endorsed_for_the_channel_is_forbidden(
    auth_settings: Settings, idp: LoopbackIdentityProvider, redis: Redis, keys: Keyspace
) -> None:
    teams_only = idp.add_key(endorsements=("msteams",))
    token = idp.channel_token(SERVICE_URL, kid=teams_only)
    async with serving(create_app(auth_settings)) as base:
        slack, body, _ = await post(
            base, message("hi", service_url=SERVICE_URL, channel="slack"), f"Bearer {token}"
        )
        teams, _, _ = await post(
            base, message("hi", service_url=SERVICE_URL, channel="msteams"), f"Bearer {token}"
        )
    assert (slack, body["error"]) == (403, "forbidden")
    assert "not endorsed for channel slack" in body["message"]
    assert teams == 202
    assert await stream_lengths(redis, keys) == 1


async def test_a_valid_token_is_accepted_and_its_claims_travel_with_the_activity(
    gateway: str, idp: LoopbackIdentityProvider, redis: Redis, keys: Keyspace
) -> None:
    activity = message("hi", service_url=SERVICE_URL, conversation="c-auth")
    token = idp.channel_token(SERVICE_URL)
    status, body, _ = await post(gateway, activity, f"Bearer {token}")
    again, _, _ = await post(gateway, {**activity, "id": "2"}, f"bearer  {token}")  # cached
    assert (status, body, again) == (202, None, 202)
    envelopes = await envelopes_in(redis, keys.stream(keys.shard_of("test/c-auth")))
    assert [e.activity()["id"] for e in envelopes] == ["1", "2"]
    assert envelopes[0].service_url == SERVICE_URL
    assert envelopes[0].claims is not None
    assert envelopes[0].claims["aud"] == idp.app_id
    assert envelopes[0].claims["iss"] == "https://api.botframework.com"


async def test_a_rotated_key_is_picked_up_and_unknown_kids_refetch_at_most_once_a_minute(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    with LoopbackIdentityProvider() as idp:
        app_settings = dataclasses.replace(
            settings, app_id=idp.app_id, openid_metadata_url=idp.metadata_url
        )
        async with serving(create_app(app_settings)) as base:
            assert idp.counters.jwks == 1  # fetched at startup
            new_kid = idp.add_key()  # the channel rotates after the gateway loaded its keys
            rotated = idp.channel_token(SERVICE_URL, kid=new_kid)
            first, _, _ = await post(
                base, message("a", service_url=SERVICE_URL), f"Bearer {rotated}"
            )
            assert (first, idp.counters.jwks) == (202, 2)
            forged = _unknown_kid(idp)
            refused, body, _ = await post(
                base, message("b", service_url=SERVICE_URL), f"Bearer {forged}"
            )
            # Inside the minute: no fetch for the unknown kid, just a refusal.
            assert (refused, idp.counters.jwks) == (401, 2)
            assert "unknown key" in body["message"]
    assert await stream_lengths(redis, keys) == 1


async def test_unreachable_keys_answer_503_and_queue_nothing(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    with LoopbackIdentityProvider() as idp:
        token = idp.channel_token(SERVICE_URL)
    dead = f"http://127.0.0.1:{free_port()}/v1/.well-known/openidconfiguration"
    app_settings = dataclasses.replace(settings, app_id=idp.app_id, openid_metadata_url=dead)
    async with serving(create_app(app_settings)) as base:
        status, body, headers = await post(
            base, message("hi", service_url=SERVICE_URL), f"Bearer {token}"
        )
    assert (status, body["error"]) == (503, "keys_unavailable")
    assert "Retry-After" in headers
    assert await stream_lengths(redis, keys) == 0


async def test_bad_activities_are_judged_only_after_the_token(
    gateway: str, idp: LoopbackIdentityProvider, redis: Redis, keys: Keyspace
) -> None:
    unauthenticated, _, _ = await post(gateway, b"not json", None)
    authenticated, body, _ = await post(
        gateway, b"not json", f"Bearer {idp.channel_token(SERVICE_URL)}"
    )
    assert (unauthenticated, authenticated) == (401, 400)
    assert body["message"].startswith("body is not valid JSON")
    assert await stream_lengths(redis, keys) == 0


@pytest.mark.parametrize(
    ("version", "app_claim", "status"),
    [("1.0", "appid", 202), ("2.0", "azp", 202), ("2.0", "appid", 401), ("3.0", "azp", 401)],
)
async def test_emulator_tokens_when_enabled(
    auth_settings: Settings,
    idp: LoopbackIdentityProvider,
    redis: Redis,
    keys: Keyspace,
    version: str,
    app_claim: str,
    status: int,
) -> None:
    issuer = sorted(EMULATOR_ISSUERS)[0]
    token = idp.channel_token(
        SERVICE_URL,
        issuer=issuer,
        claims={"ver": version, app_claim: idp.app_id},
        drop=("serviceurl",),
    )
    activity = message("hi", service_url="http://localhost:52000", channel="emulator")
    emulator = dataclasses.replace(
        auth_settings, allow_emulator_tokens=True, emulator_openid_metadata_url=idp.metadata_url
    )
    async with serving(create_app(emulator)) as base:
        got, _, _ = await post(base, activity, f"Bearer {token}")
    async with serving(create_app(auth_settings)) as base:  # not enabled: refused
        disabled, _, _ = await post(base, activity, f"Bearer {token}")
    assert (got, disabled) == (status, 401)
    envelopes = [e for s in keys.streams() for e in await envelopes_in(redis, s)]
    assert len(envelopes) == (1 if status == 202 else 0)
    for envelope in envelopes:  # an emulator token vouches for no service URL
        assert envelope.service_url is None and envelope.claims is not None


async def test_verified_tokens_are_cached_until_their_exp_and_no_longer(
    auth_settings: Settings, idp: LoopbackIdentityProvider
) -> None:
    authenticator = Authenticator(auth_settings)
    await authenticator.start()
    try:
        fresh = idp.channel_token(SERVICE_URL).encode()
        # Expired ten seconds ago, still inside the five-minute skew: valid, never cached.
        lapsing = idp.channel_token(SERVICE_URL, issued_at=time.time() - 3610).encode()
        for _ in range(3):
            await authenticator.verify(b"Bearer " + fresh)
            await authenticator.verify(b"Bearer " + lapsing)
        assert authenticator.verifications == 1 + 3
    finally:
        await authenticator.aclose()


async def test_a_stream_request_needs_a_token_like_any_activity(
    gateway: str, idp: LoopbackIdentityProvider, redis: Redis, keys: Keyspace
) -> None:
    streamed = message("hi", service_url=SERVICE_URL) | {"deliveryMode": "stream"}

    status, body, _ = await post(gateway, streamed, None)

    assert (status, body["error"]) == (401, "unauthorized")
    assert await stream_lengths(redis, keys) == 0
