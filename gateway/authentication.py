"""Who may POST activities: the Bot Framework's channel tokens (and, when enabled, the
Emulator's), checked as the connector authentication docs say, with PyJWT doing the crypto.

Checks, in order: `Authorization: Bearer`; header `alg` RS256 (nothing else, so neither `none`
nor an HMAC keyed with the public key can pass); a key id the issuer's key set holds; signature;
issuer; audience = this bot's app id; `exp`/`nbf` with five minutes of clock skew; then, with the
activity parsed, the key's endorsements must include the activity's `channelId` (403 otherwise)
and the token's `serviceurl` claim must equal the activity's `serviceUrl`. Where the successor
SDK made issuer, endorsement or service URL checks optional, all are always on here.

A verified token is cached under its own string until its `exp`, so a channel that reuses its
token (all of them do, for about an hour) costs a dictionary lookup per request instead of an
RSA verification (tens of µs; docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.openid import KeyFetchError, OpenIdKeys, SigningKey
from shared.errors import TurnstreamError
from shared.settings import Settings

log = logging.getLogger(__name__)

CHANNEL_ISSUER = "https://api.botframework.com"
EMULATOR_ISSUERS = frozenset(
    {
        # Bot Framework Emulator tokens, v3.1 and v3.2 tenants, v1.0 and v2.0 issuers.
        "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
        "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
        "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
    }
)
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 300
MAX_TOKEN_LENGTH = 16 * 1024
VERIFIED_CACHE_SIZE = 4096
CARRIED_CLAIMS = ("iss", "aud", "appid", "azp", "ver", "tid", "serviceurl")
"""The claims the envelope carries to the worker (string values only)."""


class AuthError(TurnstreamError):
    """A request is refused: `status` 401 (or 403 for a failed endorsement), `reason` a fixed
    message for the answer (never an exception's text)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class KeysUnavailable(TurnstreamError):
    """No signing keys could be fetched: the request cannot be judged now (503, retry later)."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature, issuer, audience and lifetime passed."""

    kid: str
    expires_at: float
    claims: dict[str, str]
    """The carried string claims (what the envelope records)."""
    service_url: str | None
    """The `serviceurl` claim of a channel token; None for emulator tokens."""
    channel_token: bool
    """True for Bot Framework channel tokens (endorsements and serviceurl are checked)."""


class Authenticator:
    """Verifies bearer tokens for one app id. Resources start in `start()` (the lifespan)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.app_id, "no app id: anonymous mode has no Authenticator"
        self._app_id = settings.app_id
        self._channel_keys = OpenIdKeys(settings.openid_metadata_url, name="channel tokens")
        self._emulator_keys = (
            OpenIdKeys(settings.emulator_openid_metadata_url, name="emulator tokens")
            if settings.allow_emulator_tokens
            else None
        )
        self._verified: OrderedDict[str, VerifiedToken] = OrderedDict()
        self.verifications = 0
        """Full verifications (cache misses) so far; tests read it."""

    @property
    def channel_keys(self) -> OpenIdKeys:
        return self._channel_keys

    @property
    def key_sets(self) -> list[OpenIdKeys]:
        """The key sets it trusts; each has a `keep_fresh` loop for the lifespan to run."""
        return [k for k in (self._channel_keys, self._emulator_keys) if k is not None]

    async def start(self) -> None:
        """The first fetch of the signing keys."""
        await self._channel_keys.start()
        if self._emulator_keys is not None:
            await self._emulator_keys.start()

    async def aclose(self) -> None:
        await self._channel_keys.aclose()
        if self._emulator_keys is not None:
            await self._emulator_keys.aclose()

    async def verify(self, authorization: bytes | None) -> VerifiedToken:
        """The verified token of an `Authorization` header value.

        Raises `AuthError` (401) for a missing, malformed or invalid token, `KeysUnavailable`
        when the signing keys cannot be fetched.
        """
        token = _bearer_token(authorization)
        cached = self._verified.get(token)
        if cached is not None:
            # Still trusted only while unexpired and while its key is still published.
            if cached.expires_at > time.time() and self._keys_of(cached).get(cached.kid):
                self._verified.move_to_end(token)
                return cached
            del self._verified[token]
        verified = await self._verify(token)
        self._verified[token] = verified
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return verified

    def check_activity(self, token: VerifiedToken, channel_id: str, service_url: str) -> None:
        """The checks that need the activity: endorsement (403) and serviceurl (401)."""
        if not token.channel_token:
            return
        key = self._channel_keys.get(token.kid)
        if key is None or channel_id not in key.endorsements:
            # A key without endorsements passes nothing: the docs require the endorsement.
            raise AuthError(
                403, f"the token's signing key is not endorsed for channel {channel_id}"
            )
        if token.service_url != service_url:
            raise AuthError(401, "the token's serviceurl claim does not match the serviceUrl")

    def _keys_of(self, token: VerifiedToken) -> OpenIdKeys:
        if token.channel_token or self._emulator_keys is None:
            return self._channel_keys
        return self._emulator_keys

    async def _verify(self, token: str) -> VerifiedToken:
        self.verifications += 1
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise AuthError(401, "the bearer token is not a well-formed JWT") from None
        if header.get("alg") != ALGORITHM:
            raise AuthError(401, "the token must be signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError(401, "the token names no signing key (kid)")
        issuer = unverified.get("iss")
        # The unverified issuer only picks where the key comes from; the signature is then
        # checked with that issuer's keys and the issuer claim checked against it.
        if issuer == CHANNEL_ISSUER:
            keys, channel_token = self._channel_keys, True
        elif issuer in EMULATOR_ISSUERS and self._emulator_keys is not None:
            keys, channel_token = self._emulator_keys, False
        else:
            raise AuthError(401, "the token's issuer is not accepted")
        key = await _key(keys, kid)
        claims = _decode(token, key, issuer, self._app_id if channel_token else None)
        if channel_token:
            service_url = claims.get("serviceurl")
            if not isinstance(service_url, str) or not service_url:
                raise AuthError(401, "the token has no serviceurl claim")
        else:
            service_url = None
            _check_emulator_app_id(claims, self._app_id)
        exp = claims["exp"]
        return VerifiedToken(
            kid=kid,
            expires_at=float(exp),
            claims={k: claims[k] for k in CARRIED_CLAIMS if isinstance(claims.get(k), str)},
            service_url=service_url,
            channel_token=channel_token,
        )


def _bearer_token(authorization: bytes | None) -> str:
    if not authorization:
        raise AuthError(401, "an Authorization: Bearer token is required")
    scheme, _, rest = authorization.partition(b" ")
    token = rest.strip()
    if scheme.lower() != b"bearer" or not token:
        raise AuthError(401, "the Authorization header must be 'Bearer <token>'")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise AuthError(401, "the bearer token is not a well-formed JWT")
    return token.decode("ascii")


async def _key(keys: OpenIdKeys, kid: str) -> SigningKey:
    key = keys.get(kid)
    if key is None:
        try:
            key = await keys.refresh_for(kid)
        except KeyFetchError as e:
            raise KeysUnavailable(str(e)) from e
    if key is None:
        raise AuthError(401, "the token is signed by an unknown key")
    return key


def _decode(token: str, key: SigningKey, issuer: str, audience: str | None) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={
                "require": ["exp", "iss"] + (["aud"] if audience else []),
                "verify_aud": audience is not None,
            },
        )
    except jwt.ExpiredSignatureError:
        raise AuthError(401, "the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise AuthError(401, "the token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise AuthError(401, "the token's audience is not this bot's app id") from None
    except jwt.InvalidIssuerError:
        raise AuthError(401, "the token's issuer is not accepted") from None
    except jwt.InvalidSignatureError:
        raise AuthError(401, "the token's signature does not verify") from None
    except jwt.MissingRequiredClaimError as e:
        raise AuthError(401, f"the token has no {e.claim} claim") from None
    except jwt.InvalidTokenError:
        raise AuthError(401, "the token is not valid") from None
    return claims


def _check_emulator_app_id(claims: dict[str, Any], app_id: str) -> None:
    """Emulator tokens name the bot in `appid` (v1.0) or `azp` (v2.0), as the SDK checks."""
    version = claims.get("ver")
    if version == "1.0":
        claimed = claims.get("appid")
    elif version == "2.0":
        claimed = claims.get("azp")
    else:
        raise AuthError(401, "the emulator token has no valid ver claim")
    if claimed != app_id:
        raise AuthError(401, "the emulator token is not for this bot's app id")
