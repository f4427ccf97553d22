"""`turnstream loadtest` arguments and entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared import event_loop
from turnstream.loadtest.options import (
    DEFAULT_URL,
    MAX_CONVERSATIONS,
    MAX_DURATION,
    MAX_RATE,
    MAX_TURN_SECONDS,
    WORKLOADS,
    LoadOptions,
    OptionsError,
    is_loopback,
)

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "--url",
        default=DEFAULT_URL,
        help=f"the gateway's messaging endpoint (default {DEFAULT_URL}); any other host must "
        "be named here explicitly",
    )
    add(
        "--rate",
        type=float,
        default=100.0,
        help=f"activities per second (default 100, max {MAX_RATE:g})",
    )
    add(
        "--duration",
        type=float,
        default=10.0,
        help=f"seconds of sending (default 10, max {MAX_DURATION:g})",
    )
    add(
        "--ramp",
        type=float,
        default=0.0,
        help="seconds to climb linearly from 0 to --rate (default 0)",
    )
    add(
        "--conversations",
        type=int,
        default=50,
        help=f"conversations (default 50, max {MAX_CONVERSATIONS})",
    )
    add("--connections", type=int, default=64, help="HTTP connections to the gateway (default 64)")
    add(
        "--reply-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for replies after the last send (default 10)",
    )
    add(
        "--sink-host",
        default="127.0.0.1",
        help="address the reply sink listens on (default 127.0.0.1)",
    )
    add("--sink-port", type=int, default=0, help="reply sink port (default: a free one)")
    add(
        "--service-url",
        default=None,
        help="the activities' serviceUrl (default: the sink's URL); set it when the workers "
        "reach the sink under another address",
    )
    add(
        "--channel-id",
        default=None,
        help="the activities' channelId (default loadtest; webchat for --workload streaming)",
    )
    add(
        "--workload",
        choices=WORKLOADS,
        default="replies",
        help="replies (default): measure each message's first reply; streaming: each message "
        "asks for an answer streamed for --turn-seconds (aim at a worker running "
        "turnstream.loadtest.streaming_bot:bot) and the report adds time to first chunk, chunk "
        "interval and time to final",
    )
    add(
        "--turn-seconds",
        type=float,
        default=30.0,
        help=f"with --workload streaming, how long each answer streams (default 30, max "
        f"{MAX_TURN_SECONDS:g}); --reply-timeout counts from then",
    )
    add(
        "--out",
        type=Path,
        default=Path("loadtest-results"),
        help="directory for result.json and report.html (default ./loadtest-results)",
    )
    add("--no-progress", action="store_true", help="no live progress line")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every activity was acknowledged and answered once, in order; 1 otherwise;
    2 for options out of bounds."""
    # Imported here, not at the top: every `turnstream` command builds this parser, and a
    # gateway or a worker process has no use for the load generator (aiohttp, Plotly).
    from turnstream.loadtest.report import summary_text, write_html, write_json
    from turnstream.loadtest.runner import run_load

    try:
        options = LoadOptions(
            url=args.url,
            rate=args.rate,
            duration=args.duration,
            ramp=args.ramp,
            conversations=args.conversations,
            connections=args.connections,
            reply_timeout=args.reply_timeout,
            sink_host=args.sink_host,
            sink_port=args.sink_port,
            service_url=args.service_url,
            channel_id=args.channel_id,
            workload=args.workload,
            turn_seconds=args.turn_seconds,
            out_dir=args.out,
            progress=not args.no_progress,
        ).check()
    except OptionsError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not is_loopback(options.url):
        # Allowed, since it was named explicitly; said aloud so a typo does not load a stranger.
        print(f"note: loading a non-loopback target, {options.url}", file=sys.stderr)
    per_conversation = options.planned / options.conversations - 1  # after its update
    if options.streaming and per_conversation > 1:
        # Allowed (a conversation's answers queue, as a user's questions do), but rarely meant.
        print(
            f"note: ~{per_conversation:.0f} messages per conversation: their "
            f"{options.turn_seconds:g} s answers run one after another; --conversations "
            f"{max(1, options.planned // 2)} gives each conversation one",
            file=sys.stderr,
        )
    # uvloop: the sender's CPU per request is what bounds the rate it can offer on time.
    result = event_loop.run(run_load(options))
    print(summary_text(result))
    if options.out_dir is not None:
        options.out_dir.mkdir(parents=True, exist_ok=True)
        write_json(result, options.out_dir / "result.json")
        write_html(result, options.out_dir / "report.html")
        print(f"wrote {options.out_dir / 'result.json'} and {options.out_dir / 'report.html'}")
    return EXIT_PASSED if result["passed"] else EXIT_FAILED
