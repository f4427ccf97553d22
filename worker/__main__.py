"""`python -m worker --bot module:attr [--app-dir DIR] [--concurrency N] [--burst]`, or
`--check`: as `turnstream worker`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from redis.exceptions import RedisError

from shared.errors import ConfigError
from shared.protocol.keys import Keyspace
from shared.redis.connection import connect
from shared.settings import Settings
from worker.runtime.errors import BotLoadError
from worker.runtime.heartbeat import HEARTBEAT_TTL_SECONDS, read_heartbeat, worker_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m worker", description="Run a turnstream worker."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    role = parser.add_mutually_exclusive_group(required=True)
    role.add_argument("--bot", help="the bot to run, as module:attribute (e.g. samples.echo:bot)")
    role.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if this host's worker renewed its heartbeat within "
        f"{HEARTBEAT_TTL_SECONDS} s, else 1 (a liveness probe run in the worker's pod)",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=None,
        help="turns run at once in this process (default: TURNSTREAM_WORKER_CONCURRENCY, 64)",
    )
    parser.add_argument("--burst", action="store_true", help="exit once the streams are drained")
    add_app_dir_argument(parser)


def add_app_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app-dir",
        default=".",
        metavar="DIR",
        help="look for the --bot module in this folder first (default: the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `turnstream` imports this module to build its parser for
    # every command, and a gateway process (or `--check`) must not carry the worker's modules
    # (issue 24: each process's resident memory).
    from shared import event_loop
    from shared.gc_tuning import tune_for_serving
    from shared.loops import LoopDied
    from shared.telemetry import otel
    from shared.telemetry.logs import configure_logging
    from worker.runtime.loading import load_bot
    from worker.runtime.process import run_worker

    try:
        settings = Settings.from_env(os.environ)
        if not settings.redis_url:
            raise ConfigError("REDIS_URL is required for a worker (turnstream dev starts its own)")
        if args.check:
            return asyncio.run(check(settings))  # one read: asyncio's loop starts sooner
        settings.check_worker()
        bot = load_bot(args.bot, args.app_dir)
    except (ConfigError, BotLoadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    otel.configure_from_env("turnstream-worker", os.environ)
    tune_for_serving()
    try:
        # On uvloop, as the gateway: less CPU per socket operation and timer (shared.event_loop).
        event_loop.run(run_worker(settings, bot, concurrency=args.concurrency, burst=args.burst))
    except LoopDied:
        return 1  # logged where the loop died, and the worker drained before stopping
    return 0


async def check(settings: Settings) -> int:
    """0 if this host's worker is alive (its heartbeat is there), else 1; one line either way."""
    key = Keyspace(settings.key_prefix, settings.shards).worker_heartbeat(worker_id())
    redis = connect(settings)
    try:
        beat = await read_heartbeat(redis, key)
    except (RedisError, OSError) as e:
        print(f"worker {worker_id()}: cannot read its heartbeat: {e}", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    if beat is None:
        print(f"worker {worker_id()}: no heartbeat in the last {HEARTBEAT_TTL_SECONDS} s")
        return 1
    print(f"worker {worker_id()}: alive ({beat})")
    return 0


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    sys.exit(main())
