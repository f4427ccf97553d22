"""A Bot Framework token service on loopback for tests: tokens kept in memory, every request
recorded (method, path, query, body, Authorization)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


@dataclass
class FakeTokenService:
    """`tokens[(user, connection, channel)]` is a signed-in user's token; `magic_codes[(user,
    connection, code)]` the token a magic code yields; `exchangeable[(user, connection,
    token)]` the token an SSO token is exchanged for."""

    tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)
    magic_codes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    exchangeable: dict[tuple[str, str, str], str] = field(default_factory=dict)
    received: list[Recorded] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/usertoken/GetToken", self._get_token),
                Route("/api/usertoken/SignOut", self._sign_out, methods=["DELETE"]),
                Route("/api/usertoken/GetTokenStatus", self._status),
                Route("/api/usertoken/GetAadTokens", self._aad, methods=["POST"]),
                Route("/api/usertoken/exchange", self._exchange, methods=["POST"]),
                Route("/api/botsignin/GetSignInResource", self._sign_in_resource),
            ]
        )

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

    def _token(self, user: str, connection: str, channel: str, token: str) -> dict[str, Any]:
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
        return JSONResponse(self._token(user, connection, channel, token))

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
        return JSONResponse(
            {
                url: self._token(
                    q["userId"], q["connectionName"], q.get("channelId", ""), f"aad:{url}"
                )
                for url in urls
            }
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
        return JSONResponse(self._token(user, connection, channel, token))

    async def _sign_in_resource(self, request: Request) -> Response:
        q = await self._record(request)
        return JSONResponse(
            {
                "signInLink": f"https://signin.example/?state={q['state']}",
                "tokenExchangeResource": {
                    "id": "exchange-1",
                    "uri": "api://bot",
                    "providerId": "aad",
                },
            }
        )
