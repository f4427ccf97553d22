"""A bot's own HTTP routes — what a botbuilder app adds to its aiohttp app beside
`/api/messages`, such as the proactive sample's `/api/notify`.

The bot runs in workers, not behind the HTTP server, so a route is declared on the `BotApp`:

    async def notify(request: RouteRequest) -> RouteResponse:
        for reference in await stored_references():
            await request.adapter.continue_conversation(
                reference, lambda turn_context: turn_context.send_activity("hello")
            )
        return RouteResponse("Proactive messages have been sent")

    bot = BotApp(MyBot(), routes=[BotRoute("/api/notify", notify, methods=("GET", "POST"))])

The gateway serves the path, checks the caller (the operator's bearer secret, unless
`public=True`), the method and the body size, and queues the request; a worker runs the handler
and its answer goes back in the HTTP response (docs/bot-api.md, "The bot's own HTTP routes").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from shared.protocol.answers import Answer
from shared.protocol.bot_routes import DEFAULT_MAX_BODY_BYTES, BadRoute, RouteDeclaration

if TYPE_CHECKING:
    from worker.bot.adapter import ConnectorAdapter

__all__ = ["BadRoute", "BotRoute", "RouteHandler", "RouteRequest", "RouteResponse"]


@dataclass(frozen=True)
class RouteRequest:
    """The HTTP request a route handler answers, and the adapter to act with."""

    method: str
    path: str
    query_string: str
    """As received, percent-encoded, without `?`."""
    headers: Mapping[str, str]
    """Lower-cased names. Authorization and Cookie are not passed on."""
    body: bytes
    adapter: ConnectorAdapter
    """This worker's adapter: `continue_conversation`, `create_conversation`, the connector."""

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ValueError if it is not."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as e:
            raise ValueError(f"the request body is not JSON: {e}") from None


@dataclass(frozen=True)
class RouteResponse:
    """What a route answers. `body`: bytes as is, a str as text, anything else as JSON, None
    for no body. A handler may also return a str, a dict or a list (200), or None (204)."""

    body: Any = None
    status: int = 200
    content_type: str | None = None
    """Default: `text/plain; charset=utf-8` for a str, `application/json` for JSON,
    `application/octet-stream` for bytes."""

    @classmethod
    def of(cls, result: object) -> RouteResponse:
        if isinstance(result, RouteResponse):
            return result
        if result is None:
            return cls(status=204)
        return cls(result)

    def answer(self) -> Answer:
        """The answer the gateway sends; raises TypeError for a body that is not JSON."""
        if not 200 <= self.status <= 599:
            raise TypeError(f"a route's status must be 200-599, not {self.status}")
        if self.body is None:
            return Answer(self.status, None)
        if isinstance(self.body, bytes):
            return Answer(self.status, self.body, self.content_type or "application/octet-stream")
        if isinstance(self.body, str):
            return Answer(
                self.status, self.body.encode(), self.content_type or "text/plain; charset=utf-8"
            )
        return Answer(self.status, orjson.dumps(self.body), self.content_type)


RouteHandler = Callable[[RouteRequest], Awaitable[RouteResponse | str | dict[str, Any] | None]]
"""An async function that answers one request to a bot route."""


@dataclass(frozen=True)
class BotRoute:
    """One HTTP route of the bot, served by the gateway at `path`.

    `methods`: some of GET, POST, PUT, PATCH, DELETE. `public=False` (the default): callers
    send `Authorization: Bearer <TURNSTREAM_PROACTIVE_SECRET>`, as for `POST /api/proactive`
    (without the secret configured the route answers 404); `public=True`: anyone may call it.
    `max_body_bytes`: larger bodies get 413 (at most 1 MiB). Raises BadRoute for a path that is
    not plain or that is the gateway's own.
    """

    path: str
    handler: RouteHandler
    methods: Sequence[str] = ("POST",)
    public: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    declaration: RouteDeclaration = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.methods, str):
            raise BadRoute(f"route {self.path}: methods is a list, such as ('GET', 'POST')")
        methods = tuple(method.upper() for method in self.methods)
        declaration = RouteDeclaration(self.path, methods, self.public, self.max_body_bytes)
        object.__setattr__(self, "declaration", declaration)
        if not callable(self.handler):
            raise BadRoute(f"route {self.path}: the handler must be an async function")


def check_routes(routes: Sequence[BotRoute]) -> None:
    """Raise BadRoute if two routes share a path."""
    seen: set[str] = set()
    for route in routes:
        if route.path in seen:
            raise BadRoute(f"two routes for {route.path}: declare it once, with all its methods")
        seen.add(route.path)
