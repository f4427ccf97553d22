"""A Bot Framework token service on loopback, in memory: for `turnstream dev` (sign-in from the
chat page) and for tests.

It answers the token service's routes (`/api/usertoken/...`, `/api/botsignin/...`) and serves
the sign-in page its links point to: `GET /signin?state=...` "signs in" the user the state
names (no password: a dev tool) and shows a six-digit magic code, which the user types in the
chat for the bot's `OAuthPrompt` to redeem. Every request is recorded (`received`).
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

Key = tuple[str, str, str]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


@dataclass
class DevTokenService:
    """`tokens[(user, connection, channel)]` is a signed-in user's token; `magic_codes[(user,
    connection, code)]` the token a magic code yields; `exchangeable[(user, connection,
    token)]` the token an SSO token is exchanged for."""

    tokens: dict[Key, str] = field(default_factory=dict)
    magic_codes: dict[Key, str] = field(default_factory=dict)
    exchangeable: dict[Key, str] = field(default_factory=dict)
    received: list[Recorded] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=self.routes)

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/api/usertoken/GetToken", self._get_token),
            Route("/api/usertoken/SignOut", self._sign_out, methods=["DELETE"]),
            Route("/api/usertoken/GetTokenStatus", self._status),
            Route("/api/usertoken/GetAadTokens", self._aad, methods=["POST"]),
            Route("/api/usertoken/exchange", self._exchange, methods=["POST"]),
            Route("/api/botsignin/GetSignInResource", self._sign_in_resource),
            Route("/signin", self._sign_in_page),
        ]

    def sign_in_link(self, base_url: str, state: str) -> str:
        return f"{base_url.rstrip('/')}/signin?state={state}"

    async def _record(self, request: Request) -> dict[str, str]:
        raw = await request.body()
        query = dict(request.query_params)
        self.received.append(
            Recorded(
                request.method,
                request.url.path,
                query,
                orjson.loads(raw) if raw else None,
                request.headers.get("authorization"),
            )
        )
        return query

    @staticmethod
    def _token(connection: str, channel: str, token: str) -> dict[str, Any]:
        return {
            "channelId": channel,
            "connectionName": connection,
            "token": token,
            "expiration": "2030-01-01T00:00:00Z",
        }

    async def _get_token(self, request: Request) -> Response:
        q = await self._record(request)
        user, connection, channel = q["userId"], q["connectionName"], q.get("channelId", "")
        code = q.get("code")
        if code:
            token = self.magic_codes.pop((user, connection, code), None)
            if token is not None:
                self.tokens[(user, connection, channel)] = token
        token = self.tokens.get((user, connection, channel))
        if token is None:
            return JSONResponse({"error": {"code": "NotFound", "message": "no token"}}, 404)
        return JSONResponse(self._token(connection, channel, token))

    async def _sign_out(self, request: Request) -> Response:
        q = await self._record(request)
        for key in list(self.tokens):
            if key[0] == q["userId"] and q.get("connectionName") in (None, key[1]):
                del self.tokens[key]
        return JSONResponse({})

    async def _status(self, request: Request) -> Response:
        q = await self._record(request)
        return JSONResponse(
            [
                {"channelId": c, "connectionName": n, "hasToken": True}
                for (u, n, c) in self.tokens
                if u == q["userId"]
            ]
        )

    async def _aad(self, request: Request) -> Response:
        q = await self._record(request)
        urls = self.received[-1].body["resourceUrls"]
        channel = q.get("channelId", "")
        return JSONResponse(
            {url: self._token(q["connectionName"], channel, f"aad:{url}") for url in urls}
        )

    async def _exchange(self, request: Request) -> Response:
        q = await self._record(request)
        user, connection, channel = q["userId"], q["connectionName"], q["channelId"]
        given = (self.received[-1].body or {}).get("token")
        token = self.exchangeable.get((user, connection, given or ""))
        if token is None:
            return JSONResponse(
                {"error": {"code": "ConsentRequired", "message": "the user must consent"}}, 400
            )
        self.tokens[(user, connection, channel)] = token
        return JSONResponse(self._token(connection, channel, token))

    async def _sign_in_resource(self, request: Request) -> Response:
        q = await self._record(request)
        return JSONResponse(
            {
                "signInLink": self.sign_in_link(str(request.base_url), q["state"]),
                "tokenExchangeResource": {
                    "id": "exchange-1",
                    "uri": "api://bot",
                    "providerId": "aad",
                },
            }
        )

    async def _sign_in_page(self, request: Request) -> Response:
        """Sign the state's user in: a magic code for them, shown on the page."""
        try:
            state = orjson.loads(
                base64.b64decode(request.query_params.get("state", ""), validate=True)
            )
            connection = state["connectionName"]
            reference = state["conversation"]
            user, channel = reference["user"]["id"], reference.get("channelId", "")
        except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError):
            return PlainTextResponse("this sign-in link's state is not one a bot made", 400)
        code = f"{secrets.randbelow(1_000_000):06d}"
        token = f"dev-token-{secrets.token_hex(8)}"
        self.magic_codes[(str(user), str(connection), code)] = token
        shown = html.escape(f"{connection} as {user} ({channel})")
        return HTMLResponse(
            "<!doctype html><title>Signed in</title>"
            f"<p>Signed in to {shown} by the turnstream dev token service.</p>"
            f'<p>Type this code in the chat: <code id="magic-code">{code}</code></p>'
        )
