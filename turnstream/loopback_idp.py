"""A loopback identity provider for tests, benchmarks and trying authentication locally.

It stands in for both sides of Bot Framework authentication on 127.0.0.1:

- the channel side (login.botframework.com): RSA keys generated at start, published as OpenID
  metadata and a JWKS with endorsements, and channel tokens minted with them (set
  `TURNSTREAM_OPENID_METADATA_URL` to `metadata_url`);
- the bot side (login.microsoftonline.com): a client-credentials token endpoint that checks the
  app id and secret and hands out opaque access tokens (set `TURNSTREAM_TOKEN_ENDPOINT` to
  `token_url`).

It runs in a thread (stdlib HTTP server), so synchronous and asyncio code can both use it.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"
DEFAULT_ENDORSEMENTS = ("msteams", "webchat", "directline", "emulator", "test", "dev")


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey
    endorsements: tuple[str, ...]
    published: bool = True


@dataclass
class IssuedToken:
    """One client-credentials token the endpoint handed out."""

    access_token: str
    client_id: str
    scope: str
    expires_in: int


@dataclass
class _Counters:
    metadata: int = 0
    jwks: int = 0
    token_requests: list[dict[str, str]] = field(default_factory=list)


class LoopbackIdentityProvider:
    """Keys, metadata, JWKS and a token endpoint on a free loopback port."""

    def __init__(
        self,
        *,
        endorsements: tuple[str, ...] = DEFAULT_ENDORSEMENTS,
        app_id: str = "bot-app-id",
        app_password: str = "bot-app-secret",
        token_lifetime: int = 3600,
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._kids = itertools.count(1)
        self._token_failures = 0
        self.counters = _Counters()
        self.issued: list[IssuedToken] = []
        self.default_kid = self.add_key(endorsements)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LoopbackIdentityProvider:
        provider = self

        class Handler(_Handler):
            idp = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> LoopbackIdentityProvider:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/botframework.com/oauth2/v2.0/token"

    # -- keys ------------------------------------------------------------------------------

    def add_key(self, endorsements: tuple[str, ...] = DEFAULT_ENDORSEMENTS) -> str:
        """Generate and publish a new signing key (a rotation); return its kid."""
        kid = f"loopback-key-{next(self._kids)}"
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with self._lock:
            self._keys[kid] = _Key(kid, private, endorsements)
        return kid

    def unpublish(self, kid: str) -> None:
        """Stop publishing a key (it can still sign: a token signed with it is then unknown)."""
        with self._lock:
            self._keys[kid].published = False

    def public_key_pem(self, kid: str | None = None) -> bytes:
        from cryptography.hazmat.primitives import serialization

        key = self._keys[kid or self.default_kid].private.public_key()
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            keys = [k for k in self._keys.values() if k.published]
        published = []
        for key in keys:
            jwk = json.loads(RSAAlgorithm.to_jwk(key.private.public_key()))
            jwk.update(kid=key.kid, use="sig", endorsements=list(key.endorsements))
            published.append(jwk)
        return {"keys": published}

    # -- channel tokens --------------------------------------------------------------------

    def channel_token(
        self,
        service_url: str,
        *,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        kid: str | None = None,
        lifetime: int = 3600,
        issued_at: float | None = None,
        not_before: float | None = None,
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        """A channel token as the Bot Framework signs it (RS256, serviceurl claim)."""
        now = time.time() if issued_at is None else issued_at
        payload: dict[str, Any] = {
            "iss": issuer,
            "aud": audience if audience is not None else self.app_id,
            "iat": int(now),
            "nbf": int(now if not_before is None else not_before),
            "exp": int(now + lifetime),
            "serviceurl": service_url,
            **(claims or {}),
        }
        for name in drop:
            payload.pop(name, None)
        kid = kid or self.default_kid
        return jwt.encode(payload, self._keys[kid].private, algorithm="RS256", headers={"kid": kid})

    # -- client credentials ----------------------------------------------------------------

    def fail_token_requests(self, count: int) -> None:
        """Answer the next `count` token requests with 503 (tests of the retry)."""
        self._token_failures = count

    def _issue(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.counters.token_requests.append(form)
            if self._token_failures > 0:
                self._token_failures -= 1
                return 503, {"error": "temporarily_unavailable"}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.app_password:
            return 401, {"error": "invalid_client"}
        token = IssuedToken(
            f"access-{secrets.token_hex(8)}",
            form["client_id"],
            form.get("scope", ""),
            self.token_lifetime,
        )
        with self._lock:
            self.issued.append(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": token.expires_in,
            "access_token": token.access_token,
        }


class _Handler(BaseHTTPRequestHandler):
    idp: LoopbackIdentityProvider

    def do_GET(self) -> None:
        if self.path == "/v1/.well-known/openidconfiguration":
            with self.idp._lock:
                self.idp.counters.metadata += 1
            self._json(
                200,
                {
                    "issuer": CHANNEL_ISSUER,
                    "jwks_uri": f"{self.idp.base_url}/v1/.well-known/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        elif self.path == "/v1/.well-known/keys":
            with self.idp._lock:
                self.idp.counters.jwks += 1
            self._json(200, self.idp.jwks())
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 65536)).decode()
        if not self.path.endswith("/oauth2/v2.0/token"):
            self._json(404, {"error": "not_found"})
            return
        form = dict(urllib.parse.parse_qsl(raw))
        self._json(*self.idp._issue(form))

    def _json(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks read counters, not access logs
