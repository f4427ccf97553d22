"""The bot's own HTTP routes, gateway side (`shared.protocol.bot_routes`): any path the
workers' route tables list is served here, every other path is the usual 404.

A request is checked before anything is queued — the method (405), the caller (the operator's
bearer secret unless the route is public: 401, or 404 without a secret configured), the backlog
(503) and the body size (413) — then queued as a turn in the route's own chain (a route's
requests run one at a time, in order), and answered with what the bot's handler returned,
through the request/reply lane, within `TURNSTREAM_REPLY_TIMEOUT_SECONDS`; past that, 504 (the
request stays queued and still runs).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import orjson
from redis.exceptions import RedisClusterException, RedisError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.enqueue import Unavailable
from gateway.proactive import bounded_body, operator_refusal
from gateway.resources import resources
from shared.protocol.bot_routes import (
    ROUTE_CHANNEL,
    ROUTE_EVENT,
    TABLE_TTL_SECONDS,
    BadRoute,
    RouteDeclaration,
    decode_table,
    route_conversation,
)
from shared.protocol.envelope import Envelope, RouteCall
from shared.protocol.keys import Keyspace
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
"""How long the gateway uses the route table it read before reading it again: a route a worker
starts declaring is served within this long."""

_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
"""Never passed on to the bot: the caller's credentials stay at the gateway."""

READ_SCRIPT = """
return {redis.call('TIME')[1], redis.call('HGETALL', KEYS[1])}
"""
"""KEYS: the route tables hash. The server's time (the tables are stamped with it) and the
tables."""


class RouteTable:
    """The routes the live workers declare, read from Redis at most every REFRESH_SECONDS."""

    def __init__(self, key: str) -> None:
        self._key = key
        self._routes: dict[str, RouteDeclaration] = {}
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()

    async def lookup(self, redis: Redis, path: str) -> RouteDeclaration | None:
        """The route at `path`, or None. Raises Redis errors when the table cannot be read."""
        if time.monotonic() - self._read_at >= REFRESH_SECONDS:
            async with self._reading:  # one read for all the requests that find it stale
                if time.monotonic() - self._read_at >= REFRESH_SECONDS:
                    self._routes = await self._read(redis)
                    self._read_at = time.monotonic()
        return self._routes.get(path)

    async def _read(self, redis: Redis) -> dict[str, RouteDeclaration]:
        raw: Any = await redis.eval(READ_SCRIPT, 1, self._key)
        now, fields = int(raw[0]), raw[1]
        tables = []
        for i in range(0, len(fields), 2):
            stamp, _, table = bytes(fields[i + 1]).partition(b" ")
            if not stamp.isdigit() or int(stamp) < now - TABLE_TTL_SECONDS:
                continue
            try:
                tables.append((int(stamp), decode_table(table)))
            except BadRoute as e:
                log.warning("ignoring an unreadable bot route table: %s", e)
        routes: dict[str, RouteDeclaration] = {}
        for _, declared in sorted(tables, key=lambda t: t[0]):  # the newest declaration wins
            routes.update((route.path, route) for route in declared)
        return routes


class BotRoutesEndpoint:
    """Serves every path not otherwise routed: `serve` is the Starlette endpoint."""

    def __init__(
        self,
        keys: Keyspace,
        *,
        signer: EnvelopeSigner | None,
        reply_timeout_seconds: float,
        retry_after_seconds: int,
        gateway_paths: tuple[str, ...],
    ) -> None:
        self._gateway_paths = gateway_paths
        """The gateway's own routes: a request that reaches this endpoint with one of them
        used another method (405, as Starlette answers)."""
        self._keys = keys
        self._signer = signer
        self._reply_timeout = reply_timeout_seconds
        self._retry_after = retry_after_seconds
        self.table = RouteTable(keys.bot_routes())

    async def serve(self, request: Request) -> Response:
        state = resources(request)
        path = request.url.path
        if path in self._gateway_paths or path.startswith("/api/proactive/"):
            raise HTTPException(405)
        try:
            async with asyncio.timeout(state.settings.redis_timeout_seconds):
                route = await self.table.lookup(state.redis, path)
        except (RedisError, RedisClusterException, OSError, TimeoutError):
            return self._unavailable("Redis unavailable; retry later")
        if route is None:
            raise HTTPException(404)
        if request.method not in route.methods:
            return _error(
                405,
                "method_not_allowed",
                f"{path} answers {', '.join(route.methods)}",
                headers={"Allow": ", ".join(route.methods)},
            )
        if not route.public:
            refusal = operator_refusal(request, off=f"{path} is for the operator")
            if refusal is not None:
                return refusal
        if state.backlog.over:
            return self._unavailable("the bot is behind on its work; retry later")
        body = await bounded_body(request, route.max_body_bytes)
        if body is None:
            return _error(413, "too_large", f"{path} takes at most {route.max_body_bytes} bytes")
        return await self._queue(request, route, body)

    async def _queue(self, request: Request, route: RouteDeclaration, body: bytes) -> Response:
        state = resources(request)
        request_id = uuid.uuid4().hex
        conversation = route_conversation(route.path)
        activity = {
            "type": "event",
            "name": ROUTE_EVENT,
            "id": request_id,
            "channelId": ROUTE_CHANNEL,
            "conversation": {"id": conversation.partition("/")[2]},
        }
        call = RouteCall(
            request.method,
            route.path,
            request.url.query,
            {k: v for k, v in request.headers.items() if k not in _PRIVATE_HEADERS},
            body,
        )
        envelope = Envelope(
            orjson.dumps(activity), conversation, time.time(), request=request_id, route=call
        )
        shard = self._keys.shard_of(conversation)
        expected = state.answers.expect(self._keys.answer(shard, conversation, request_id))
        try:
            await state.enqueuer.enqueue(
                self._keys.stream(shard),
                self._keys.seen(shard, conversation, request_id),
                self._keys.last(shard, conversation),
                envelope.encode(self._signer),
                dedupe=False,
            )
        except Unavailable:
            state.answers.forget(expected)
            return self._unavailable("the queue did not take the request in time; retry later")
        answer = await expected.result(self._reply_timeout, stored=False)
        if answer is None:
            log.warning("bot route %s got no answer within %.1f s", route.path, self._reply_timeout)
            return _error(
                504,
                "bot_timeout",
                f"the bot did not answer within {self._reply_timeout:g} s; the request is "
                "queued and will still run",
            )
        return Response(
            answer.body or b"",
            status_code=answer.status,
            media_type=answer.content_type or ("application/json" if answer.body else None),
        )

    def _unavailable(self, message: str) -> JSONResponse:
        return _error(503, "unavailable", message, headers={"Retry-After": str(self._retry_after)})


def _error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)
