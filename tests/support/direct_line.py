"""A Direct Line stand-in for browser tests: what Web Chat needs of Direct Line 3.0 over polling
(`webSocket: false`), the Bot Connector routes a bot replies on, and the page that loads Web Chat
(same origin: no CORS). In memory, no authentication.

Microsoft's Direct Line is a cloud service; offline-directline (npm), its usual emulator, needs
node and 140 packages, listens on every interface, stamps `channelId: "emulator"` and exits when
the bot cannot be reached. This one is the few routes Web Chat calls:

    POST /v3/directline/conversations                      201 {conversationId, token}
    POST /v3/directline/conversations/{id}/activities      to the bot; 200 {id} (502 if it fails)
    GET  /v3/directline/conversations/{id}/activities?watermark=N   {activities, watermark}
    POST /v3/conversations/{id}/activities[/{replyToId}]   the bot's replies; 200 {id}

Every activity gets an id (`{conversation}|0000007`, as Direct Line's), a timestamp, channelId
`webchat` and its conversation. `GET /` is the page (Web Chat rendered full-window; the
`directLine` object on `window`), `GET /webchat.js` the bundle given.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_ACCOUNT = {"id": "bot", "name": "Bot", "role": "bot"}

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<style>html, body { height: 100%; margin: 0 } #webchat { height: 100% }</style></head>
<body><div id="webchat" role="main"></div>
<script src="/webchat.js"></script>
<script>
  window.directLine = window.WebChat.createDirectLine({
    domain: location.origin + "/v3/directline",
    webSocket: false,
    pollingInterval: 250,  // the default (1 s) is too coarse to see an answer grow
    token: "stand-in"
  });
  window.WebChat.renderWebChat(
    { directLine: window.directLine, userID: "user1", username: "User" },
    document.getElementById("webchat")
  );
</script></body></html>
"""


class _Conversation:
    def __init__(self, conversation_id: str) -> None:
        self.id = conversation_id
        self.history: list[dict[str, Any]] = []
        self._numbers = itertools.count(1)

    def add(self, activity: dict[str, Any], service_url: str) -> dict[str, Any]:
        stamped = {
            **activity,
            "id": f"{self.id}|{next(self._numbers):07d}",
            "timestamp": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
            "channelId": "webchat",
            "serviceUrl": service_url,
            "conversation": {"id": self.id},
        }
        self.history.append(stamped)
        return stamped


class DirectLine:
    """`app` serves Web Chat and the bot; `service_url` must be set to where it is served
    before the first message (the bot's replies come back there)."""

    def __init__(self, bot_url: str, bundle: bytes) -> None:
        self.bot_url = bot_url
        self.service_url = ""
        self._bundle = bundle
        self.conversations: dict[str, _Conversation] = {}
        dl = "/v3/directline/conversations"
        self.app = Starlette(
            routes=[
                Route("/", lambda _: Response(PAGE, media_type="text/html")),
                Route("/webchat.js", self._webchat),
                Route(dl, self._start, methods=["POST"]),
                Route(dl + "/{conversation}/activities", self._from_user, methods=["POST"]),
                Route(dl + "/{conversation}/activities", self._activities, methods=["GET"]),
                Route(
                    "/v3/conversations/{conversation}/activities", self._from_bot, methods=["POST"]
                ),
                Route(
                    "/v3/conversations/{conversation}/activities/{reply_to}",
                    self._from_bot,
                    methods=["POST"],
                ),
            ]
        )

    def bot_activities(self) -> list[dict[str, Any]]:
        """Everything the bot sent, in every conversation, in order."""
        return [
            a
            for c in self.conversations.values()
            for a in c.history
            if (a.get("from") or {}).get("role") == "bot"
        ]

    async def _webchat(self, request: Request) -> Response:
        return Response(self._bundle, media_type="text/javascript")

    def _conversation(self, request: Request) -> _Conversation | None:
        return self.conversations.get(request.path_params["conversation"])

    async def _start(self, request: Request) -> Response:
        conversation = _Conversation(uuid.uuid4().hex)
        self.conversations[conversation.id] = conversation
        body = {"conversationId": conversation.id, "token": "stand-in", "expires_in": 3600}
        return JSONResponse(body, status_code=201)

    async def _from_user(self, request: Request) -> Response:
        conversation = self._conversation(request)
        if conversation is None:
            return JSONResponse({"error": {"code": "BadArgument"}}, status_code=404)
        posted = await request.json()
        activity = conversation.add({**posted, "recipient": BOT_ACCOUNT}, self.service_url)
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
                http.post(self.bot_url, json=activity) as answer,
            ):
                failed = answer.status >= 300
        except aiohttp.ClientError:
            failed = True
        if failed:  # as Direct Line answers when the bot fails
            return JSONResponse({"error": {"code": "BotError"}}, status_code=502)
        return JSONResponse({"id": activity["id"]})

    async def _activities(self, request: Request) -> Response:
        conversation = self._conversation(request)
        if conversation is None:
            return JSONResponse({"error": {"code": "BadArgument"}}, status_code=404)
        watermark = request.query_params.get("watermark") or "0"
        start = int(watermark) if watermark.isdigit() else 0
        return JSONResponse(
            {
                "activities": conversation.history[start:],
                "watermark": str(len(conversation.history)),
            }
        )

    async def _from_bot(self, request: Request) -> Response:
        conversation = self._conversation(request)
        if conversation is None:
            return JSONResponse({"error": {"code": "ConversationNotFound"}}, status_code=404)
        posted = await request.json()
        sender = {**BOT_ACCOUNT, **(posted.get("from") or {}), "role": "bot"}
        activity = conversation.add({**posted, "from": sender}, self.service_url)
        return JSONResponse({"id": activity["id"]})
