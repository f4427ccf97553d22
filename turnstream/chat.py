"""The dev chat page: talk to the bot in a browser, as with the Bot Framework Emulator.

`turnstream dev` serves it at `/` on the gateway's port (`ChatFrontDoor`). The page posts what
the person types to `/chat/send`; this module turns it into an activity and POSTs it to the
gateway's real `/api/messages` on the same server, with the dev connector as its
`serviceUrl`. The dev connector hands every reply to `ChatPage`, which streams it to the page
as server-sent events
(`/chat/events?conversation=ID`). "New conversation" sends a conversationUpdate that adds the
user, so the bot's welcome appears.

With `"channel": "msteams"` the page talks as Teams does (channelId `msteams`, a tenant, team
and channel in channelData), and `/chat/invoke` sends an invoke (`task/fetch`,
`composeExtension/query`, ...) and hands back the bot's answer as it came (status and body).
A streamed answer grows in place, with a Stop button that
makes the dev connector refuse the stream's next update as Teams does (`/chat/stop`).
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import aiohttp
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from turnstream.devconnector import DevConnector, ReceivedRequest

CHANNEL_ID = "emulator"
TEAMS_CHANNEL_ID = "msteams"
TEAMS_TENANT = {"id": "dev-tenant"}
TEAMS_TEAM = {"id": "19:dev-team@thread.tacv2", "name": "Dev team"}
MAX_INVOKE_NAME = 200
USER = {"id": "dev-user", "name": "You"}
TEAMS_PROFILE = {
    "aadObjectId": "00000000-0000-0000-0000-0000000000aa",
    "email": "you@dev.example",
    "userPrincipalName": "you@dev.example",
}
"""The user's Teams fields, sent with the member added: Teams itself sends only the ids and the
bot looks the member up (`TeamsInfo.get_member`), which the dev connector, knowing no roster,
could not answer."""
BOT = {"id": "bot", "name": "Bot"}
KEEPALIVE_SECONDS = 15.0
MAX_TEXT = 4096
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ChatPage:
    """The page, its event streams and the two actions (send, new conversation)."""

    def __init__(
        self, connector: DevConnector, service_url: str, token_service_url: str | None = None
    ) -> None:
        self._service_url = service_url
        self._token_service_url = token_service_url
        self._connector = connector
        self._subscribers: dict[str, set[asyncio.Queue[bytes | None]]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._page = resources.files("turnstream").joinpath("chat.html").read_text("utf-8")
        connector.listeners.append(self._on_connector_request)
        self.app = Starlette(
            routes=[
                Route("/", self._index),
                Route("/chat/events", self._events),
                Route("/chat/send", self._send, methods=["POST"]),
                Route("/chat/conversations", self._new_conversation, methods=["POST"]),
                Route("/chat/signin", self._sign_in_link, methods=["POST"]),
                Route("/chat/invoke", self._invoke, methods=["POST"]),
                Route("/chat/stop", self._stop, methods=["POST"]),
            ]
        )

    async def close(self) -> None:
        """End every event stream (so the server can stop) and the HTTP session."""
        for queues in self._subscribers.values():
            for queue in queues:
                queue.put_nowait(None)
        if self._session is not None:
            await self._session.close()

    def _on_connector_request(self, request: ReceivedRequest) -> None:
        if request.method not in ("POST", "PUT") or not isinstance(request.body, dict):
            return
        event = orjson.dumps({"direction": "bot", "activity": request.body})
        for queue in self._subscribers.get(request.conversation_id, ()):
            queue.put_nowait(event)

    async def _index(self, request: Request) -> Response:
        return HTMLResponse(self._page)

    async def _events(self, request: Request) -> Response:
        conversation = request.query_params.get("conversation", "")
        if not conversation:
            return _error("conversation is required", 400)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._subscribers.setdefault(conversation, set()).add(queue)
        return StreamingResponse(
            self._stream(conversation, queue),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    async def _stream(
        self, conversation: str, queue: asyncio.Queue[bytes | None]
    ) -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield b"data: " + event + b"\n\n"
        finally:
            self._subscribers.get(conversation, set()).discard(queue)

    async def _send(self, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body is not JSON", 400)
        if not isinstance(body, dict) or not isinstance(body.get("conversation"), str):
            return _error("conversation (a string) is required", 400)
        if not CONVERSATION_ID.fullmatch(body["conversation"]):
            return _error("conversation must match [A-Za-z0-9_-]{1,64}", 400)
        text, value = body.get("text"), body.get("value")
        if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
            return _error(f"text must be a string of at most {MAX_TEXT} characters", 400)
        channel = body.get("channel", CHANNEL_ID)
        if channel not in (CHANNEL_ID, TEAMS_CHANNEL_ID):
            return _error(f"channel must be {CHANNEL_ID} or {TEAMS_CHANNEL_ID}", 400)
        activity: dict[str, Any] = {"type": "message", "text": text or ""}
        if value is not None:
            activity["value"] = value
        return await self._post(request, body["conversation"], activity, channel)

    async def _invoke(self, request: Request) -> Response:
        """An invoke as the channel sends it; the answer is the bot's, whatever its status."""
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body is not JSON", 400)
        if not isinstance(body, dict) or not isinstance(body.get("conversation"), str):
            return _error("conversation (a string) is required", 400)
        if not CONVERSATION_ID.fullmatch(body["conversation"]):
            return _error("conversation must match [A-Za-z0-9_-]{1,64}", 400)
        name = body.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= MAX_INVOKE_NAME:
            return _error(f"name must be a string of 1 to {MAX_INVOKE_NAME} characters", 400)
        channel = body.get("channel", TEAMS_CHANNEL_ID)
        if channel not in (CHANNEL_ID, TEAMS_CHANNEL_ID):
            return _error(f"channel must be {CHANNEL_ID} or {TEAMS_CHANNEL_ID}", 400)
        activity = {"type": "invoke", "name": name, "value": body.get("value")}
        return await self._post(request, body["conversation"], activity, channel, invoke=True)

    async def _sign_in_link(self, request: Request) -> Response:
        """Where the page's user signs in for an OAuth card without a link, as the Emulator
        asks the token service itself: the dev token service's sign-in page, with the state a
        bot would have made for this conversation."""
        if self._token_service_url is None:
            return _error("no token service: sign-in works under `turnstream dev`", 400)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body is not JSON", 400)
        conversation = body.get("conversation") if isinstance(body, dict) else None
        connection = body.get("connectionName") if isinstance(body, dict) else None
        if not isinstance(conversation, str) or not CONVERSATION_ID.fullmatch(conversation):
            return _error("conversation must match [A-Za-z0-9_-]{1,64}", 400)
        if not isinstance(connection, str) or not 0 < len(connection) <= 256:
            return _error("connectionName (a string) is required", 400)
        state = {
            "connectionName": connection,
            "conversation": {
                "user": USER,
                "bot": BOT,
                "conversation": {"id": conversation},
                "channelId": CHANNEL_ID,
                "serviceUrl": self._service_url,
            },
        }
        encoded = base64.b64encode(orjson.dumps(state)).decode("ascii")
        return JSONResponse({"url": f"{self._token_service_url}/signin?state={encoded}"})

    async def _stop(self, request: Request) -> Response:
        """The Stop button of a streamed answer: `{"conversation": ..., "streamId": ...}`."""
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body is not JSON", 400)
        if not isinstance(body, dict) or not all(
            isinstance(body.get(name), str) and body[name] for name in ("conversation", "streamId")
        ):
            return _error("conversation and streamId (strings) are required", 400)
        self._connector.stop_stream(body["conversation"], body["streamId"])
        return JSONResponse({"stopped": body["streamId"]})

    async def _new_conversation(self, request: Request) -> Response:
        """Start a conversation: the page names it (it listens before the welcome can come)."""
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError:
            return _error("body is not JSON", 400)
        conversation = body.get("conversation") if isinstance(body, dict) else None
        if conversation is None:
            conversation = f"dev-{uuid.uuid4().hex[:12]}"
        if not isinstance(conversation, str) or not CONVERSATION_ID.fullmatch(conversation):
            return _error("conversation must match [A-Za-z0-9_-]{1,64}", 400)
        channel = body.get("channel", CHANNEL_ID) if isinstance(body, dict) else CHANNEL_ID
        if channel not in (CHANNEL_ID, TEAMS_CHANNEL_ID):
            return _error(f"channel must be {CHANNEL_ID} or {TEAMS_CHANNEL_ID}", 400)
        user = USER if channel == CHANNEL_ID else USER | TEAMS_PROFILE
        activity = {"type": "conversationUpdate", "membersAdded": [user, BOT]}
        return await self._post(request, conversation, activity, channel)

    async def _post(
        self,
        request: Request,
        conversation: str,
        activity: dict[str, Any],
        channel: str = CHANNEL_ID,
        *,
        invoke: bool = False,
    ) -> Response:
        # The gateway shares this server (ChatFrontDoor): post to the address this request
        # came in on, never to one the Host header names.
        host, port = request.scope["server"]
        gateway_url = f"http://{host}:{port}/api/messages"
        activity |= {
            "id": uuid.uuid4().hex,
            "channelId": channel,
            "serviceUrl": self._service_url,
            "conversation": {"id": conversation},
            "from": USER,
            "recipient": BOT,
            "locale": "en-US",
        }
        if channel == TEAMS_CHANNEL_ID:
            activity |= _as_in_teams(conversation)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        try:
            async with self._session.post(
                gateway_url,
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as answer:
                status, detail = answer.status, await answer.text()
        except aiohttp.ClientError as e:
            return _error(f"gateway unreachable: {e}", 502)
        if invoke:  # the bot's answer, whatever its status (501: not handled)
            try:
                answer_body = orjson.loads(detail) if detail else None
            except orjson.JSONDecodeError:
                answer_body = detail
            return JSONResponse(
                {
                    "conversation": conversation,
                    "activity": activity,
                    "status": status,
                    "answer": answer_body,
                }
            )
        if status >= 300:
            return _error(f"gateway answered {status}: {detail}", 502)
        return JSONResponse({"conversation": conversation, "activity": activity, "status": status})


class ChatFrontDoor:
    """One port for both: `/` and `/chat/...` go to the chat page, the rest (and the lifespan)
    to the gateway app."""

    def __init__(self, chat: ASGIApp, gateway: ASGIApp) -> None:
        self._chat = chat
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/" or path.startswith("/chat/")):
            await self._chat(scope, receive, send)
        else:
            await self._gateway(scope, receive, send)


def _as_in_teams(conversation: str) -> dict[str, Any]:
    """What Teams adds to an activity in a team's channel: the tenant, team and channel."""
    return {
        "conversation": {
            "id": conversation,
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TEAMS_TENANT["id"],
        },
        "from": USER | {"aadObjectId": TEAMS_PROFILE["aadObjectId"]},
        "channelData": {
            "tenant": TEAMS_TENANT,
            "team": TEAMS_TEAM,
            "channel": {"id": TEAMS_TEAM["id"], "name": "General"},
        },
    }


def _error(message: str, status: int) -> JSONResponse:
    """The gateway's error shape: a code and a message, never a traceback."""
    code = "bad_request" if status == 400 else "bad_gateway"
    return JSONResponse({"error": code, "message": message}, status)
