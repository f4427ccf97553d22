"""A tiny Bot Connector stand-in for development and tests.

It accepts what the connector client sends to `/v3/conversations/...`, answers like the real
service (`{"id": ...}`), keeps every request for inspection and logs each reply in one line.
Teams' own routes (teams, meetings, batch sends) get plausible answers (`dev_teams`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from turnstream.dev_teams import TEAMS_PREFIXES, DevTeams

log = logging.getLogger("turnstream.connector")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the bot made to the connector."""

    method: str
    path: str
    conversation_id: str
    activity_id: str | None
    """The activity id in the URL (`replyToId` for a reply), if the route has one."""
    body: Any
    received_at: float
    authorization: str | None = None
    """The request's Authorization header (tests check who gets the bot's token)."""
    traceparent: str | None = None
    """The request's W3C `traceparent` header (tests check the trace reaches the connector)."""


Listener = Callable[["ReceivedRequest"], None]
"""Called with each request as it arrives (the chat page's live stream, the load test's sink)."""


class DevConnector:
    """Records requests; `app` is the ASGI app to serve.

    `keep=False` keeps nothing in `received` (a long load test would grow it without bound);
    listeners see every request either way.
    """

    def __init__(self, *, echo_log: bool = True, keep: bool = True) -> None:
        self.received: list[ReceivedRequest] = []
        self.listeners: list[Listener] = []
        self._stopped_streams: set[tuple[str, str]] = set()
        """(conversation, stream id) of streams the user stopped: refused from then on."""
        self._echo_log = echo_log
        self._keep = keep
        self._ids = itertools.count(1)
        self._teams = DevTeams()
        self._arrived = asyncio.Condition()
        self.app = Starlette(
            routes=[
                Route(
                    "/v3/conversations/{conversation_id}/activities/{activity_id}",
                    self._handle,
                    methods=["POST", "PUT", "DELETE"],
                ),
                Route(
                    "/v3/conversations/{conversation_id}/activities", self._handle, methods=["POST"]
                ),
                Route(
                    "/v3/conversations/{rest:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "DELETE"],
                ),
                Route("/v3/conversations", self._handle, methods=["GET", "POST"]),
                *(
                    Route(f"{prefix}{{rest:path}}", self._handle, methods=["GET", "POST", "DELETE"])
                    for prefix in TEAMS_PREFIXES
                ),
            ]
        )

    def stop_stream(self, conversation_id: str, stream_id: str) -> None:
        """The user pressed Stop: the stream's next update (or final message) is refused with
        403 `ContentStreamNotAllowed`, as Teams refuses it."""
        self._stopped_streams.add((conversation_id, stream_id))

    def activities(self) -> list[dict[str, Any]]:
        """The bodies of every activity POSTed so far, in arrival order."""
        return [r.body for r in self.received if r.method == "POST" and isinstance(r.body, dict)]

    async def wait_for(self, count: int, within: float = 10.0) -> list[ReceivedRequest]:
        """Wait until at least `count` requests arrived; raise TimeoutError otherwise."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return list(self.received)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return JSONResponse(
                {"error": {"code": "BadArgument", "message": "body is not JSON"}}, 400
            )
        params = request.path_params
        stream = _stream_id(body)
        if stream and (params.get("conversation_id", ""), stream) in self._stopped_streams:
            error = {"code": "ContentStreamNotAllowed", "message": "the user stopped the stream"}
            return JSONResponse({"error": error}, 403)
        record = ReceivedRequest(
            method=request.method,
            path=request.url.path,
            conversation_id=params.get("conversation_id", ""),
            activity_id=params.get("activity_id"),
            body=body,
            received_at=time.time(),
            authorization=request.headers.get("authorization"),
            traceparent=request.headers.get("traceparent"),
        )
        for listener in self.listeners:
            listener(record)
        if self._keep:
            async with self._arrived:
                self.received.append(record)
                self._arrived.notify_all()
        if self._echo_log:
            log.info("%s", describe(record))
        raw_path = request.scope["raw_path"].decode()
        if raw_path.startswith(TEAMS_PREFIXES):
            return self._teams.answer(request.method, raw_path, request.url.query)
        if request.method == "GET":
            return self._read(raw_path)
        if request.method == "DELETE":
            return Response(status_code=200)
        return JSONResponse({"id": f"dev-{next(self._ids)}"})

    def _read(self, raw_path: str) -> Response:
        """Member reads: the members of a conversation are the accounts its activities were
        sent from and to (all this connector knows of it)."""
        # Segments after /v3/conversations, each unescaped on its own (ids may hold '/').
        conversation, *rest = [unquote(part) for part in raw_path.split("/")[3:]] or [""]
        accounts: dict[str, dict[str, Any]] = {}
        for record in self.received:
            if record.conversation_id == conversation and isinstance(record.body, dict):
                for role in ("from", "recipient"):
                    account = record.body.get(role)
                    if isinstance(account, dict) and isinstance(account.get("id"), str):
                        accounts.setdefault(account["id"], account)
        members = list(accounts.values())
        if rest == ["pagedmembers"]:
            return JSONResponse({"members": members})
        if len(rest) == 2 and rest[0] == "members":
            if rest[1] in accounts:
                return JSONResponse(accounts[rest[1]])
            error = {"code": "MemberNotFound", "message": f"no member {rest[1]} in {conversation}"}
            return JSONResponse({"error": error}, 404)
        return JSONResponse(members)


def _stream_id(body: Any) -> str | None:
    """The `streamId` of a stream update or final message, if the body is one."""
    entities = body.get("entities") if isinstance(body, dict) else None
    for entity in entities if isinstance(entities, list) else ():
        if isinstance(entity, dict) and entity.get("type") == "streaminfo":
            stream_id = entity.get("streamId")
            return stream_id if isinstance(stream_id, str) else None
    return None


def describe(record: ReceivedRequest) -> str:
    """`reply in conversation c1 to 42 for user1: message "Echo: hi"` and the like."""
    body = record.body if isinstance(record.body, dict) else {}
    kind = {"POST": "reply" if record.activity_id else "send", "PUT": "update", "DELETE": "delete"}
    verb = kind.get(record.method, record.method)
    target = f" to {record.activity_id}" if record.activity_id and record.method == "POST" else ""
    recipient = (
        (body.get("recipient") or {}).get("id") if isinstance(body.get("recipient"), dict) else None
    )
    text = body.get("text")
    what = (
        f'{body.get("type", "activity")} "{text}"'
        if text is not None
        else str(body.get("type", ""))
    )
    who = f" for {recipient}" if recipient else ""
    if record.path.startswith(TEAMS_PREFIXES):  # no conversation in its path
        return f"{record.method} {record.path}"
    return f"{verb} in conversation {record.conversation_id}{target}{who}: {what}".rstrip(": ")
