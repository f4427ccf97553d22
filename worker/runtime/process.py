"""Compose and run one worker process: Redis, connector client, adapter, consumer, signals."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from shared.event_loop import loop_name
from shared.loops import BackgroundLoops
from shared.protocol.keys import Keyspace
from shared.protocol.proactive import ProactiveQueue
from shared.protocol.registry import ConversationRegistry
from shared.protocol.schedule import Schedule
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis, connect, redacted
from shared.redis.resp_pools import open_pipelined_pool
from shared.settings import Settings
from shared.telemetry import otel
from worker.bot.adapter import ConnectorAdapter
from worker.bot.app import BotApp
from worker.bot.types import Bot
from worker.bot.user_tokens import UserTokenClient
from worker.connector.app_token import ClientCredentialsTokens
from worker.connector.authorization import AppCredentials
from worker.connector.client import ConnectorClient
from worker.connector.keepalive_http import KeepAliveHttp
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient
from worker.runtime.answer_publisher import AnswerPublisher
from worker.runtime.bot_routes import RouteAnnouncer
from worker.runtime.consumer import Consumer, consumer_name
from worker.runtime.conversation_registry import RegistryRecorder
from worker.runtime.heartbeat import Heartbeat, worker_id
from worker.runtime.local_callbacks import LocalCallbacks
from worker.runtime.metrics import WorkerMetrics
from worker.runtime.metrics_server import MetricsServer
from worker.runtime.outbound_observer import OutboundObserver
from worker.runtime.queue_gauges import poll_dead_letters
from worker.runtime.queued_typing import QueuedTyping
from worker.runtime.scheduled_turns import DueTurns
from worker.runtime.throttle import Throttle
from worker.runtime.turn_observer import TurnObserver
from worker.runtime.turns import Turns

log = logging.getLogger(__name__)

_BLOCK_MS = 1000


async def run_worker(
    settings: Settings,
    bot: Bot | BotApp,
    *,
    concurrency: int | None = None,
    burst: bool = False,
    handle_signals: bool = True,
    stop: asyncio.Event | None = None,
    metrics_host: str = "0.0.0.0",
) -> Consumer:
    """Run until SIGTERM/SIGINT (or `stop` is set), draining in-flight turns; or, in burst
    mode, until the streams are empty. Returns the consumer, whose counters tests read.
    With `settings.metrics_port`, serve /metrics and /healthz on `metrics_host` meanwhile.

    Raises `ConfigError` if an app id is set without what the outbound token needs, and
    `LoopDied` (after draining and closing everything) if a background loop died."""
    settings.check_worker()
    redis = connect(settings, read_block_seconds=_BLOCK_MS / 1000)
    scripts = open_pipelined_pool(settings, timeout_seconds=settings.redis_timeout_seconds)
    keys = Keyspace(settings.key_prefix, settings.shards)
    token_service_host = urlsplit(settings.token_service_url).hostname or ""
    policy = OutboundPolicy(
        (*settings.outbound_allowed_hosts, token_service_host),
        allow_private=settings.allow_private_service_urls,
    )
    token_http, tokens = _tokens(settings, redis, keys)
    credentials = AppCredentials(tokens, policy) if tokens is not None else None
    metrics = WorkerMetrics()
    name = consumer_name()
    tracer = otel.tracer("turnstream.worker")
    connector = ConnectorClient.create(
        timeout_seconds=settings.connector_timeout_seconds,
        credentials=credentials,
        policy=policy,
        observer=OutboundObserver(metrics, tracer),
        max_answer_bytes=settings.connector_max_answer_bytes,
        max_large_answer_bytes=settings.connector_max_large_answer_bytes,
    )
    app = BotApp.of(bot)
    signer = EnvelopeSigner.from_secrets(settings.envelope_secrets)
    local = LocalCallbacks(redis, scripts, keys, name)
    schedule = Schedule(redis, keys, signer)
    shard_of_stream = {stream: shard for shard, stream in enumerate(keys.streams())}
    due = DueTurns(  # watches the shards the consumer (made below) reads first
        schedule,
        keys.shards,
        lambda: [shard_of_stream[stream] for stream in consumer.own_streams],
        metrics,
    )

    def scheduled() -> None:
        metrics.scheduled.inc()
        due.wake()  # it may be due before the watcher's next look

    adapter = ConnectorAdapter(
        connector,
        middleware=app.middleware,
        on_turn_error=app.on_turn_error,
        conversation_state=app.conversation_state,
        proactive=ProactiveQueue(redis, keys, signer),
        bot=app.bot,
        user_tokens=UserTokenClient(
            settings.app_id or "", TokenServiceClient(connector, settings.token_service_url)
        ),
        app_id=settings.app_id,
        local_callbacks=local,
        schedule=schedule,
        on_scheduled=scheduled,
    )
    turns = Turns(
        adapter,
        app.bot,
        policy,
        keys,
        AnswerPublisher(redis, keys.answers_channel()),
        redis=redis,
        throttle=Throttle(redis, keys, settings.proactive_rate_per_second),
        routes=app.routes,
        registry=RegistryRecorder(
            ConversationRegistry(redis, keys, settings.conversation_registry_ttl_seconds)
        )
        if settings.conversation_registry
        else None,
    )
    typing = QueuedTyping(
        connector,
        policy,
        after_seconds=settings.typing_while_queued_seconds,
        excluded_channels=settings.typing_excluded_channels,
    )
    consumer = Consumer(
        redis,
        keys,
        turns.run,
        scripts=scripts,
        concurrency=concurrency or settings.worker_concurrency,
        block_ms=_BLOCK_MS,
        claim_idle_seconds=settings.claim_idle_seconds,
        max_deliveries=settings.max_deliveries,
        signer=signer,
        typing=typing,
        name=name,
        observer=TurnObserver(metrics, name, tracer),
        gave_up=turns.given_up,
        local=local,
    )
    metrics.in_flight.set_function(lambda: consumer.held)
    heartbeat = Heartbeat(
        redis,
        keys.worker_heartbeat(worker_id()),
        lambda: f"{consumer.name} turns_done={consumer.turns_done} failed={consumer.turns_failed}",
    )
    # Every background loop of the process, the consumer's included, lives in this group: one
    # that dies stops the consumer (it drains), and the process exits non-zero at the end. The
    # loops are cancelled and awaited when the block is left, before what they use is closed.
    loops = BackgroundLoops(on_death=lambda name: consumer.stop())
    routes = RouteAnnouncer(redis, keys, name, app.routes) if app.routes else None
    try:
        async with _signals(consumer, handle_signals), loops:
            # Logged once SIGTERM drains: whoever waits for this line may stop the worker.
            log.info(
                "worker using Redis at %s, on the %s event loop",
                redacted(settings.redis_url or ""),
                loop_name(),
            )
            loops.start("heartbeat", heartbeat.run())  # kept up while draining: still alive
            if not burst:  # a burst drains what is queued; it does not wait for the future
                loops.start("scheduled turns", due.run())
            if routes is not None:
                loops.start("route announcer", routes.run())
            if stop is not None:
                loops.start("stop watcher", _stop_when(stop, consumer))
            async with _serving_metrics(
                settings, metrics, redis, keys, metrics_host, lambda: not consumer.stopping, loops
            ):
                await consumer.run(
                    burst=burst, drain_timeout=settings.drain_timeout_seconds, loops=loops
                )
    finally:
        await heartbeat.clear()
        if routes is not None:
            await routes.withdraw()
        await typing.aclose()
        await connector.aclose()
        if tokens is not None:
            await tokens.aclose()
        if token_http is not None:
            await token_http.aclose()
        await scripts.aclose()
        await redis.aclose()
    log.info(
        "worker %s stopped: %d turns done, %d failed",
        consumer.name,
        consumer.turns_done,
        consumer.turns_failed,
    )
    loops.raise_if_dead()
    return consumer


def _tokens(
    settings: Settings, redis: Redis, keys: Keyspace
) -> tuple[KeepAliveHttp | None, ClientCredentialsTokens | None]:
    """The outbound token (with an app id), on an HTTP client of its own: the token endpoint is
    configuration, not a service URL from an activity (so a private address is allowed)."""
    if not settings.app_id:
        log.warning("ANONYMOUS MODE: MicrosoftAppId is not set; replies carry no token")
        return None, None
    assert settings.app_password is not None  # check_worker
    http = KeepAliveHttp(
        timeout_seconds=settings.connector_timeout_seconds, allow_private=True, max_connections=4
    )
    tokens = ClientCredentialsTokens(
        http=http,
        redis=redis,
        keys=keys,
        token_url=settings.token_url(),
        app_id=settings.app_id,
        app_password=settings.app_password,
    )
    return http, tokens


@asynccontextmanager
async def _serving_metrics(
    settings: Settings,
    metrics: WorkerMetrics,
    redis: Redis,
    keys: Keyspace,
    host: str,
    healthy: Callable[[], bool],
    loops: BackgroundLoops,
) -> AsyncIterator[None]:
    """The metrics server and the dead-letter poll, when TURNSTREAM_METRICS_PORT is set. A port
    that cannot be bound is logged, not fatal: the turns matter more than their metrics."""
    if not settings.metrics_port:
        yield
        return
    server = MetricsServer(metrics.registry, healthy, host, settings.metrics_port)
    try:
        await server.start()
    except OSError as e:
        log.error("worker metrics not served on port %d: %s", settings.metrics_port, e)
        await server.stop()
        yield
        return
    gauges = loops.start("dead-letter gauges", poll_dead_letters(redis, keys, metrics))
    try:
        yield
    finally:
        await loops.stop(gauges)
        await server.stop()


@asynccontextmanager
async def _signals(consumer: Consumer, handle: bool) -> AsyncIterator[None]:
    """SIGTERM and SIGINT stop the consumer (it drains) while the block runs, if `handle`."""
    if not handle:
        yield
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stopper(consumer, sig))
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _stopper(consumer: Consumer, sig: signal.Signals) -> Callable[[], None]:
    def on_signal() -> None:
        log.info("%s received: no new reads, draining in-flight turns", sig.name)
        consumer.stop()

    return on_signal


async def _stop_when(stop: asyncio.Event, consumer: Consumer) -> None:
    await stop.wait()
    consumer.stop()
