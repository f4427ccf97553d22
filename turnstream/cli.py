"""The `turnstream` command line: gateway, worker and dev."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from redis.exceptions import RedisError

import gateway.__main__ as gateway_cli
import worker.__main__ as worker_cli
from shared import event_loop
from shared.errors import ConfigError
from shared.protocol.keys import Keyspace
from shared.protocol.registry import ConversationRegistry
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis, connect
from shared.settings import LogFormat, Settings
from shared.telemetry.logs import configure_logging
from turnstream import ops, scheduled, send, settings_reference
from turnstream.loadtest import command as loadtest_cli
from worker.runtime.errors import BotLoadError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="turnstream",
        description="Run Bot Framework bots at scale: gateway -> Redis Streams -> workers.",
        epilog="Configuration comes from the environment (REDIS_URL, MicrosoftAppId, "
        "TURNSTREAM_*); see the README.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gateway = commands.add_parser("gateway", help="serve POST /api/messages and queue activities")
    gateway_cli.add_arguments(gateway)
    gateway.set_defaults(run=gateway_cli.run)

    worker = commands.add_parser("worker", help="run the bot's turns from the queue")
    worker_cli.add_arguments(worker)
    worker.set_defaults(run=worker_cli.run)

    dev = commands.add_parser(
        "dev", help="gateway + worker + dev connector in one process, on an embedded Redis"
    )
    dev.add_argument(
        "--bot", required=True, help="the bot to run, as module:attribute (e.g. samples.echo:bot)"
    )
    dev.add_argument(
        "--port", type=int, default=3978, help="gateway port on 127.0.0.1 (default 3978)"
    )
    dev.add_argument(
        "--connector-port",
        type=int,
        default=3979,
        help="dev connector port on 127.0.0.1 (default 3979)",
    )
    dev.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the embedded Redis data here (default: a temporary directory, removed on exit)",
    )
    worker_cli.add_app_dir_argument(dev)
    dev.set_defaults(run=_run_dev)

    loadtest = commands.add_parser(
        "loadtest",
        help="open-loop load test of a gateway, with its own reply sink; JSON + HTML report",
    )
    loadtest_cli.add_arguments(loadtest)
    loadtest.set_defaults(run=loadtest_cli.run)

    status = commands.add_parser(
        "status",
        help="streams, lag, pending, consumers and dead letters, per shard; live workers and "
        "gateways",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument(
        "--watch",
        nargs="?",
        type=_positive_seconds,
        const=2.0,
        default=None,
        metavar="SECONDS",
        help="refresh every SECONDS (default 2) until Ctrl-C; with --json, one JSON line each",
    )
    status.set_defaults(run=_ops(_status))

    settings = commands.add_parser(
        "settings",
        help="every setting with the value this environment gives it (checked as at startup)",
    )
    settings.add_argument(
        "--markdown", action="store_true", help="print the reference table of docs/configuration.md"
    )
    settings.set_defaults(run=_settings)

    proactive = commands.add_parser(
        "send", help="send a proactive message or event to conversations, and follow it"
    )
    send.add_arguments(proactive)
    proactive.set_defaults(run=_ops(_send))

    schedule = commands.add_parser("schedule", help="list, show or cancel scheduled turns")
    scheduled.add_arguments(schedule)
    schedule.set_defaults(run=_ops(scheduled.run_schedule))

    dlq = commands.add_parser("dlq", help="inspect, replay or purge dead letters")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(run=_ops(_dlq_list))
    show = actions.add_parser("show", help="one dead letter with its activity")
    show.add_argument("id", help="shard/entry, as `dlq list` prints it")
    show.set_defaults(run=_ops(_dlq_show))
    for name, helptext in (
        ("replay", "queue the activity again, at the end of its conversation"),
        ("purge", "delete for good"),
    ):
        action = actions.add_parser(name, help=helptext)
        target = action.add_mutually_exclusive_group(required=True)
        target.add_argument("id", nargs="?", help="shard/entry, as `dlq list` prints it")
        target.add_argument("--all", action="store_true", help="every dead letter")
        action.set_defaults(run=_ops(_dlq_replay if name == "replay" else _dlq_purge))
    return parser


OpsCommand = Callable[[Redis, Keyspace, argparse.Namespace], Awaitable[int]]


def _ops(command: OpsCommand) -> Callable[[argparse.Namespace], int]:
    """Run an operator command against REDIS_URL, with errors as one line, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            settings = Settings.from_env(os.environ)
            if not settings.redis_url:
                raise ConfigError("REDIS_URL is required")
        except ConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        keys = Keyspace(settings.key_prefix, settings.shards)

        async def main() -> int:
            redis = connect(settings)
            try:
                return await command(redis, keys, args)
            finally:
                await redis.aclose()

        try:
            return asyncio.run(main())
        except KeyboardInterrupt:  # how --watch ends
            return 0
        except (LookupError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except (RedisError, OSError) as e:
            print(f"error: Redis unavailable: {e}", file=sys.stderr)
            return 1

    return run


async def _status(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    if args.watch is None:
        report = await ops.status(redis, keys)
        print(ops.to_json(report) if args.json else ops.format_status(report))
        return 0
    # Ctrl-C (or SIGTERM) ends the watch between two reports, by an event rather than by
    # cancelling the task: Python 3.11 can hand a cancellation that lands in a Redis command
    # to redis-py as the TimeoutError it retries on, and the watch then went on forever. A
    # second Ctrl-C interrupts at once (a Redis that does not answer).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopped(sig: signal.Signals) -> None:
        stop.set()
        loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped, sig)
    while not stop.is_set():
        report = await ops.status(redis, keys)
        if args.json:
            print(orjson.dumps(report).decode(), flush=True)
        else:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            # Clear the terminal and redraw, as `watch` does.
            print(f"\x1b[H\x1b[2J{stamp}  (every {args.watch:g} s, Ctrl-C to stop)", flush=True)
            print(ops.format_status(report), flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.watch)
    return 0


def _positive_seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


async def _send(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    settings = Settings.from_env(os.environ)
    signer = EnvelopeSigner.from_secrets(settings.envelope_secrets)
    registry = ConversationRegistry(redis, keys, settings.conversation_registry_ttl_seconds)
    return await send.send(redis, keys, args, signer, registry)


async def _dlq_list(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    letters = await ops.dead_letters(redis, keys, args.limit)
    if args.json:
        print(ops.to_json(letters))
    elif not letters:
        print("no dead letters")
    for letter in [] if args.json else letters:
        print(
            f"{letter['id']}  {letter['at']}  conversation {letter['conversation']}  "
            f"activity {letter['activity_id']}  deliveries {letter['deliveries']}  "
            f"{letter['reason']}"
        )
    return 0


async def _dlq_show(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    print(ops.to_json(await ops.dead_letter(redis, keys, args.id)))
    return 0


async def _dlq_replay(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    ids = [d["id"] for d in await ops.dead_letters(redis, keys, 10**9)] if args.all else [args.id]
    signer = EnvelopeSigner.from_secrets(Settings.from_env(os.environ).envelope_secrets)
    for dead_letter_id in ids:
        new_id = await ops.replay(redis, keys, dead_letter_id, signer)
        print(f"replayed {dead_letter_id} as {new_id}")
    return 0


async def _dlq_purge(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    removed = await ops.purge(redis, keys, None if args.all else args.id)
    print(f"purged {removed} dead letter{'s' if removed != 1 else ''}")
    return 0


def _settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(settings_reference.markdown())
        return 0
    try:
        print(settings_reference.effective(os.environ))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _run_dev(args: argparse.Namespace) -> int:
    # Imported here: the dev stack holds the gateway and the worker together, which
    # `turnstream gateway` and `turnstream worker` must not load (issue 24: resident memory).
    from turnstream.dev import DevStartupError, run_dev
    from worker.runtime.loading import load_bot

    try:
        settings = Settings.from_env(os.environ)
        settings.check_worker()
        bot = load_bot(args.bot, args.app_dir)
    except (ConfigError, BotLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    configure_logging(LogFormat.TEXT, settings.log_level)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # the banner says where things are
    try:
        # The loop the gateway and the worker run on in production, so that the dev stack
        # behaves as they do (shared.event_loop).
        event_loop.run(
            run_dev(
                settings,
                bot,
                args.bot,
                port=args.port,
                connector_port=args.connector_port,
                data_dir=args.data_dir,
            )
        )
    except DevStartupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
