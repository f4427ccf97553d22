"""`python -m worker --bot module:attr [--concurrency N] [--burst]`: as `turnstream worker`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from shared.errors import ConfigError
from shared.logs import configure_logging
from shared.settings import Settings
from worker.errors import BotLoadError
from worker.loading import load_bot
from worker.main import run_worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m worker", description="Run a turnstream worker."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bot", required=True, help="the bot to run, as module:attribute (e.g. samples.echo:bot)"
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=None,
        help="turns run at once in this process (default: TURNSTREAM_WORKER_CONCURRENCY, 64)",
    )
    parser.add_argument("--burst", action="store_true", help="exit once the streams are drained")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env(os.environ)
        if not settings.redis_url:
            raise ConfigError("REDIS_URL is required for a worker (turnstream dev starts its own)")
        settings.check_worker()
        bot = load_bot(args.bot)
    except (ConfigError, BotLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(run_worker(settings, bot, concurrency=args.concurrency, burst=args.burst))
    return 0


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
