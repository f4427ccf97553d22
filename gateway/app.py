"""The gateway's ASGI application, built by a factory; its resources come from the lifespan."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.answer_board import AnswerBoard
from gateway.authentication import Authenticator
from gateway.backlog import BacklogMonitor
from gateway.bot_routes import BotRoutesEndpoint
from gateway.enqueue import Enqueuer
from gateway.enqueue_pool import open_enqueue_pool
from gateway.health import healthz, readyz
from gateway.messages import MessagesEndpoint
from gateway.metrics import CountedApp, GatewayMetrics, StatusRecorder
from gateway.openapi import openapi
from gateway.presence import gateway_heartbeat
from gateway.proactive import proactive_progress, start_proactive
from gateway.resources import Resources
from gateway.responses import send_error
from shared.event_loop import loop_name
from shared.loops import BackgroundLoops
from shared.protocol.answers import Answer
from shared.protocol.bot_routes import METHODS as BOT_ROUTE_METHODS
from shared.protocol.keys import Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.protocol.registry import ConversationRegistry
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis, connect, redacted
from shared.settings import Settings
from shared.telemetry import otel

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
ROUTES = (MESSAGES_PATH, "/healthz", "/readyz", "/metrics", "/openapi.json", "/api/proactive")


def create_app(
    settings: Settings,
    *,
    redis: Redis | None = None,
    on_loop_death: Callable[[str], None] | None = None,
) -> ASGIApp:
    """The gateway app. Pass `redis` to share a client (tests); else one is made from settings.

    If one of its background loops dies (`shared.loops`), /healthz fails from then on and
    `on_loop_death(name)` is called: the process that serves the app stops and exits non-zero.
    """
    keys = Keyspace(settings.key_prefix, settings.shards)
    metrics = GatewayMetrics(ROUTES)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        client = redis if redis is not None else connect(settings)
        assert settings.redis_url is not None
        pool = open_enqueue_pool(settings)
        backlog = BacklogMonitor(
            client, keys.streams(), settings.max_backlog, on_measure=metrics.backlog_measured
        )
        enqueuer = Enqueuer(
            pool,
            dedupe_window_seconds=settings.dedupe_window_seconds,
            timeout_seconds=settings.redis_timeout_seconds,
            on_failure=metrics.enqueue_failed,
        )
        answers = AnswerBoard(client, keys.answers_channel())
        heartbeat = gateway_heartbeat(client, keys, metrics.answered_totals)
        authenticator = Authenticator(settings) if settings.app_id else None
        if authenticator is None:
            log.warning(
                "ANONYMOUS MODE: MicrosoftAppId is not set, so /api/messages accepts "
                "unauthenticated requests. Set MicrosoftAppId in production."
            )
        else:
            await authenticator.start()
        if settings.redis_url:
            log.info(
                "gateway using Redis at %s, %d shards, on the %s event loop",
                redacted(settings.redis_url),
                keys.shards,
                loop_name(),
            )
        try:
            # The loops are cancelled and awaited when the block is left: before what they
            # use is closed below.
            async with BackgroundLoops(on_death=on_loop_death) as loops:
                loops.start("backlog poll", backlog.watch())
                loops.start("answers subscription", answers.listen())
                loops.start("presence heartbeat", heartbeat.run())
                for key_set in authenticator.key_sets if authenticator is not None else []:
                    loops.start(f"{key_set.name} key refresh", key_set.keep_fresh())
                yield Resources(
                    settings=settings,
                    redis=client,
                    enqueuer=enqueuer,
                    backlog=backlog,
                    authenticator=authenticator,
                    answers=answers,
                    proactive=ProactiveQueue(client, keys, signer),
                    registry=ConversationRegistry(
                        client, keys, settings.conversation_registry_ttl_seconds
                    ),
                    loops=loops,
                ).as_state()
        finally:
            await heartbeat.clear()
            if authenticator is not None:
                await authenticator.aclose()
            await enqueuer.aclose()
            await pool.aclose()
            if redis is None:
                await client.aclose()

    signer = EnvelopeSigner.from_secrets(settings.envelope_secrets)
    messages = MessagesEndpoint(
        keys,
        max_body_bytes=settings.max_body_bytes,
        retry_after_seconds=settings.retry_after_seconds,
        max_json_depth=settings.max_json_depth,
        authenticate=bool(settings.app_id),
        signer=signer,
        reply_timeout_seconds=settings.reply_timeout_seconds,
        timeout_answer=_timeout_answer(settings),
        stream_timeout_seconds=settings.stream_timeout_seconds,
        stream_keepalive_seconds=settings.stream_keepalive_seconds,
        tracer=otel.tracer("turnstream.gateway"),
    )
    bot_routes = BotRoutesEndpoint(
        keys,
        signer=signer,
        reply_timeout_seconds=settings.reply_timeout_seconds,
        retry_after_seconds=settings.retry_after_seconds,
        gateway_paths=ROUTES,
    )
    app = Starlette(
        routes=[
            Route(MESSAGES_PATH, messages, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/api/proactive", start_proactive, methods=["POST"]),
            Route("/api/proactive/{job}", proactive_progress, methods=["GET"]),
            # The bot's own routes (the workers' route tables), else 404.
            Route("/{path:path}", bot_routes.serve, methods=list(BOT_ROUTE_METHODS)),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _json_http_error},
    )
    return HotPath(CountedApp(app, metrics), messages, metrics)


def _timeout_answer(settings: Settings) -> Answer:
    """What an invoke or expectReplies request gets when its turn does not answer in time."""
    body = settings.reply_timeout_body or orjson.dumps(
        {
            "error": "reply_timeout",
            "message": f"the bot did not answer within {settings.reply_timeout_seconds:g} s",
        }
    )
    return Answer(settings.reply_timeout_status, body)


class HotPath:
    """`POST /api/messages` straight to its endpoint; everything else through Starlette.

    The endpoint answers every outcome itself, so Starlette's router and exception middleware
    only cost time there (~15-20 us of ~120 per request under load; docs/benchmarks.md).
    Lifespan, health, 404 and 405 stay with Starlette. Every answer is counted (`metrics`).
    """

    def __init__(self, app: ASGIApp, messages: ASGIApp, metrics: GatewayMetrics) -> None:
        self._app = app
        self._messages = messages
        self._requests = metrics.requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == MESSAGES_PATH:
            started = time.perf_counter()
            recorder = StatusRecorder(send)
            await _guarded(self._messages, scope, receive, recorder)
            answered = recorder.answered_at or time.perf_counter()
            self._requests.acked(MESSAGES_PATH, recorder.status, answered - started)
        else:
            await self._app(scope, receive, send)


async def _guarded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """A bug in the endpoint is logged and answered with a JSON 500 that holds no exception text
    (Starlette's error middleware does the same for the other routes). A try block costs nothing
    on the hot path until something raises."""
    try:
        await app(scope, receive, send)
    except Exception:
        log.exception("unexpected error in POST %s", MESSAGES_PATH)
        # If the answer had already started, the server refuses a second one: nothing to add.
        with contextlib.suppress(Exception):
            await send_error(send, 500, "internal_error", "the gateway failed; retry later")


async def _json_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": "http_error", "message": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )
