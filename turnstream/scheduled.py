"""Operator commands for scheduled turns: `turnstream schedule list|show|cancel`."""

from __future__ import annotations

import argparse
import datetime
import time

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule, ScheduledTurn
from shared.redis.connection import Redis
from turnstream.ops import to_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `schedule` command's actions, each with `run_schedule` as what it runs."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="turns waiting for their due time, soonest first")
    listing.add_argument("--conversation", help="only this conversation: channelId/conversationId")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="one scheduled turn with its activity")
    show.add_argument("id", help="the schedule id, as `schedule list` prints it")
    cancel = actions.add_parser("cancel", help="cancel a scheduled turn: by id, or by key")
    cancel.add_argument("id", nargs="?", help="the schedule id, as `schedule list` prints it")
    cancel.add_argument("--conversation", help="with --key: channelId/conversationId")
    cancel.add_argument("--key", help="with --conversation: the key it was scheduled with")


async def run_schedule(redis: Redis, keys: Keyspace, args: argparse.Namespace) -> int:
    schedule = Schedule(redis, keys)
    if args.action == "list":
        turns = await schedule.waiting(conversation=args.conversation, limit=args.limit)
        if args.json:
            print(to_json([turn.to_dict() for turn in turns]))
        elif not turns:
            print("no scheduled turns")
        for turn in [] if args.json else turns:
            print(_line(turn, time.time()))
        return 0
    if args.action == "show":
        found = await schedule.get(args.id)
        if found is None:
            raise LookupError(f"no turn is scheduled as {args.id}")
        print(to_json({**found.to_dict(), "activity": found.activity}))
        return 0
    if (args.id is None) == (args.conversation is None or args.key is None):
        raise ValueError("cancel takes an id, or --conversation and --key (not both)")
    if await schedule.cancel(args.id, conversation=args.conversation, key=args.key):
        print(f"cancelled {args.id or args.key}")
        return 0
    print(f"no turn waits as {args.id or args.key} (it ran, or was cancelled)")
    return 1


def _line(turn: ScheduledTurn, now: float) -> str:
    due = datetime.datetime.fromtimestamp(turn.due, datetime.UTC).isoformat(timespec="seconds")
    what = f"callback {turn.callback}" if turn.callback else f"event {turn.activity.get('name')}"
    key = f"  key {turn.key}" if turn.key else ""
    return f"{turn.id}  {due}  in {turn.due - now:+.0f} s  {turn.conversation}  {what}{key}"
