"""The `turnstream` command line: gateway, worker and dev."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

import gateway.__main__ as gateway_cli
import worker.__main__ as worker_cli
from shared.errors import ConfigError
from shared.logs import configure_logging
from shared.settings import LogFormat, Settings
from turnstream.dev import run_dev
from worker.errors import BotLoadError
from worker.loading import load_bot


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
    dev.set_defaults(run=_run_dev)
    return parser


def _run_dev(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(os.environ)
        bot = load_bot(args.bot)
    except (ConfigError, BotLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    configure_logging(LogFormat.TEXT, settings.log_level)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # the banner says where things are
    asyncio.run(
        run_dev(
            settings,
            bot,
            args.bot,
            port=args.port,
            connector_port=args.connector_port,
            data_dir=args.data_dir,
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
