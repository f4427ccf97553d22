"""`turnstream dev`: gateway, worker and dev connector in one process, on an embedded Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.edge import EdgeLimits
from gateway.server import EmbeddedServer, server_config
from shared.loops import LoopDied
from shared.redis.connection import redacted
from shared.settings import Settings
from turnstream.chat import ChatFrontDoor, ChatPage
from turnstream.dev_token_service import DevTokenService
from turnstream.devconnector import DevConnector
from turnstream.embedded import EmbeddedRedis, EmbeddedServerError
from worker.bot.app import BotApp
from worker.runtime.process import run_worker

log = logging.getLogger(__name__)


class DevStartupError(Exception):
    """A part of the dev stack could not start (a port in use), or stopped it (a background
    loop died); the message says which."""


async def run_dev(
    settings: Settings,
    bot: BotApp,
    bot_spec: str,
    *,
    port: int,
    connector_port: int,
    data_dir: Path | None,
) -> None:
    """Run until SIGINT/SIGTERM; stop everything it started, the embedded server included."""
    _check_free(port, "gateway")
    _check_free(connector_port, "dev connector")
    # The dev connector (and the Emulator) listen on loopback: let the worker reach them.
    settings = dataclasses.replace(settings, allow_private_service_urls=True)
    if "TURNSTREAM_TOKEN_SERVICE_URL" not in os.environ:  # sign-in through the dev one
        settings = dataclasses.replace(
            settings, token_service_url=f"http://127.0.0.1:{connector_port}"
        )
    embedded: EmbeddedRedis | None = None
    if not settings.redis_url:
        try:
            embedded = EmbeddedRedis(data_dir).start()
        except EmbeddedServerError as e:
            raise DevStartupError(str(e)) from e
        settings = dataclasses.replace(settings, redis_url=embedded.url)
        # Bot code reads it too: RedisStorage() connects on first use from REDIS_URL.
        os.environ["REDIS_URL"] = embedded.url
    assert settings.redis_url is not None
    try:
        await _serve(settings, bot, bot_spec, port, connector_port, embedded, data_dir)
    finally:
        if embedded is not None:
            embedded.stop()
            print("turnstream dev: embedded Redis stopped", file=sys.stderr)


def _check_free(port: int, what: str) -> None:
    """Refuse a taken port before anything starts: a quick, clear error, and no half-started
    stack to unwind (uvicorn's own refusal, later, still ends the stack cleanly)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            raise DevStartupError(f"the {what} could not listen on 127.0.0.1:{port}: {e}") from e


async def _serve(
    settings: Settings,
    bot: BotApp,
    bot_spec: str,
    port: int,
    connector_port: int,
    embedded: EmbeddedRedis | None,
    data_dir: Path | None,
) -> None:
    connector = DevConnector()
    tokens = DevTokenService()
    # One loopback server plays the Bot Connector and the token service (sign-in).
    connector_app = Starlette(routes=[*connector.app.routes, *tokens.routes])
    connector_server = EmbeddedServer(server_config(connector_app, "127.0.0.1", connector_port))
    connector_url = f"http://127.0.0.1:{connector_port}"
    chat = ChatPage(connector, service_url=connector_url, token_service_url=connector_url)
    failed: list[str] = []

    def on_loop_death(name: str) -> None:
        failed.append(f"the background loop {name!r} died")
        on_signal()

    front_door = ChatFrontDoor(chat.app, create_app(settings, on_loop_death=on_loop_death))
    gateway_server = EmbeddedServer(
        server_config(front_door, "127.0.0.1", port, EdgeLimits.from_settings(settings))
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        tasks.create_task(chat.close())  # open event streams would hold the server up
        gateway_server.should_exit = True
        connector_server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    assert settings.redis_url is not None
    where = (
        f"embedded valkey-server, data in {data_dir or 'a temporary directory'}"
        if embedded
        else "REDIS_URL"
    )

    async def announce() -> None:
        # The banner's addresses must answer once it shows (its curl line is run at once).
        while not (gateway_server.started and connector_server.started):
            if stop.is_set():
                return
            await asyncio.sleep(0.02)
        assert settings.redis_url is not None
        _banner(settings.redis_url, where, port, connector_port, bot_spec)

    async def serve(server: EmbeddedServer, what: str) -> None:
        # uvicorn answers a port it cannot bind with sys.exit(1); inside a task that would
        # leave the worker running and the process hanging. Stop everything gracefully instead.
        try:
            await server.serve()
        except SystemExit:
            failed.append(f"the {what} could not listen on 127.0.0.1:{server.config.port}")
            on_signal()

    tasks = asyncio.TaskGroup()
    async with tasks:
        tasks.create_task(serve(connector_server, "dev connector"))
        tasks.create_task(serve(gateway_server, "gateway"))
        tasks.create_task(announce())
        tasks.create_task(_work(settings, bot, stop, on_loop_death))
    if failed:
        raise DevStartupError("; ".join(failed))


async def _work(
    settings: Settings, bot: BotApp, stop: asyncio.Event, on_loop_death: Callable[[str], None]
) -> None:
    """The worker, until `stop`; a background loop that dies stops the whole stack."""
    try:
        await run_worker(settings, bot, handle_signals=False, stop=stop, metrics_host="127.0.0.1")
    except LoopDied as e:  # logged where it died
        on_loop_death(f"worker: {e.name}")


def _banner(redis_url: str, where: str, port: int, connector_port: int, bot_spec: str) -> None:
    service_url = f"http://127.0.0.1:{connector_port}"
    example = {
        "type": "message",
        "id": "1",
        "text": "hello",
        "channelId": "dev",
        "serviceUrl": service_url,
        "conversation": {"id": "conv-1"},
        "from": {"id": "user-1", "name": "User"},
        "recipient": {"id": "bot", "name": "Bot"},
    }
    print(
        f"turnstream dev — bot {bot_spec}\n"
        f"  Redis      {redacted(redis_url)} ({where})\n"
        f"  Gateway    http://127.0.0.1:{port}/api/messages\n"
        f"  Connector  {service_url}  (the activities' serviceUrl; replies are logged)\n"
        f"  Chat       http://127.0.0.1:{port}/  (talk to the bot in a browser)\n"
        f"Try:\n  curl -i http://127.0.0.1:{port}/api/messages -H 'Content-Type: application/json' "
        f"-d '{json.dumps(example)}'\n"
        f"Stop with Ctrl-C.",
        file=sys.stderr,
        flush=True,
    )
