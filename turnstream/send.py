"""`turnstream send`: queue a proactive message (or event) for one or many conversations straight
into Redis, then follow the job until every turn ran. Same semantics as `POST /api/proactive`
(see `shared.protocol.proactive`); for operators with Redis access, no gateway secret needed.
`--to-conversation`, `--to-user` and `--to-query` find the conversations in the conversation
registry (`shared.protocol.registry`) instead of a file of references."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from shared.protocol.keys import Keyspace
from shared.protocol.proactive import BadReference, ProactiveQueue, activity_to_send
from shared.protocol.registry import ConversationRegistry, Target
from shared.protocol.signing import EnvelopeSigner
from shared.protocol.teams_batch import TEAMS_BATCH_EVENT, TeamsBatch
from shared.redis.connection import Redis


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--reference", type=Path, help="a JSON file holding one conversation reference"
    )
    target.add_argument(
        "--references", type=Path, help="a file of conversation references, one JSON per line"
    )
    target.add_argument(
        "--teams-batch",
        type=Path,
        help="a JSON file holding a Teams batch operation (kind, serviceUrl, tenantId, ...): "
        "Teams delivers the --text or --activity itself",
    )
    target.add_argument(
        "--to-conversation",
        metavar="CHANNEL/ID",
        help="the conversation registry's latest reference of this conversation",
    )
    target.add_argument(
        "--to-user",
        metavar="CHANNEL/USER_ID",
        help="every conversation the registry knows the user in",
    )
    target.add_argument(
        "--to-query",
        metavar="channel=..,tenant=..,team=..",
        help="every conversation the registry knows matching all the fields given",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="send a message with this text")
    what.add_argument("--activity", type=Path, help="send the activity in this JSON file")
    what.add_argument("--event", help="let the bot handle an event of this name")
    parser.add_argument("--value", help="the event's value, as JSON")
    parser.add_argument(
        "--timeout", type=float, default=600, help="stop following after this many seconds"
    )
    parser.add_argument("--no-wait", action="store_true", help="queue and print the job id only")


async def send(
    redis: Redis,
    keys: Keyspace,
    args: argparse.Namespace,
    signer: EnvelopeSigner | None,
    registry: ConversationRegistry | None = None,
) -> int:
    """0 when every turn ran; 1 when some failed in the bot or the timeout came first."""
    references, event, value, activity = await _what(args, registry)
    queue = ProactiveQueue(redis, keys, signer)
    job, total = await queue.fan_out(references, event=event, value=value, send=activity)
    print(f"job {job}: {total} conversation{'s' if total != 1 else ''} queued", flush=True)
    if args.no_wait:
        return 0
    deadline = time.monotonic() + args.timeout
    while True:
        progress = await queue.progress(job)
        if progress is None:
            raise LookupError(f"job {job} disappeared (expired?)")
        line = f"done {progress.done}/{progress.total}, failed {progress.failed}"
        operation = progress.teams_operation
        if operation:
            line += f", Teams operation {operation['id']} {operation.get('state', 'started')}"
        if progress.finished or time.monotonic() > deadline:
            print(f"\r{line}", flush=True)
            if not progress.finished:
                print(f"error: stopped following after {args.timeout:g} s", file=sys.stderr)
            return 0 if progress.finished and not progress.failed else 1
        if sys.stdout.isatty():
            print(f"\r{line}", end="", flush=True)
        await asyncio.sleep(0.5)


Turns = tuple[list[Any], str | None, Any, bytes | None]
"""What `fan_out` queues: references, event name, event value, activity to send."""


async def _what(args: argparse.Namespace, registry: ConversationRegistry | None) -> Turns:
    if args.teams_batch:
        return _teams_batch(args)
    references, event, value, activity = _turns(args)
    target = _target(args)
    if target is not None:
        assert registry is not None
        references = await registry.references(target)
        if not references:
            raise LookupError("the conversation registry knows no such conversation")
    return references, event, value, activity


def _turns(args: argparse.Namespace) -> Turns:
    references = _references(args)
    event, value, activity = None, None, None
    if args.event:
        event = args.event
        value = _json(args.value, "--value") if args.value else None
    elif args.text is not None:
        activity = activity_to_send({"type": "message", "text": args.text})
    else:
        activity = activity_to_send(_json(_read(args.activity), str(args.activity)))
    return references, event, value, activity


def _teams_batch(args: argparse.Namespace) -> Turns:
    """One turn in which a worker asks Teams to deliver the activity (a batch operation)."""
    if args.event:
        raise BadReference("--teams-batch sends an activity (--text or --activity), not an event")
    batch = TeamsBatch.parse(_json(_read(args.teams_batch), str(args.teams_batch)))
    if args.text is not None:
        activity = {"type": "message", "text": args.text}
    else:
        activity = _json(_read(args.activity), str(args.activity))
    checked = orjson.loads(activity_to_send(activity))
    return [batch.reference()], TEAMS_BATCH_EVENT, batch.to_value(checked), None


def _target(args: argparse.Namespace) -> Target | None:
    """Whom to find in the conversation registry, if the arguments say so."""
    if args.to_conversation:
        return Target.parse({"conversation": args.to_conversation})
    if args.to_user:
        channel, slash, user = args.to_user.partition("/")
        if not slash:
            raise BadReference("--to-user is CHANNEL/USER_ID")
        return Target.parse({"user": user, "channel": channel})
    if args.to_query:
        fields = dict(part.partition("=")[::2] for part in args.to_query.split(","))
        return Target.parse(fields)
    return None


def _references(args: argparse.Namespace) -> list[Any]:
    if args.reference is None and args.references is None:
        return []  # found in the registry instead
    if args.reference:
        return [_json(_read(args.reference), str(args.reference))]
    lines = _read(args.references).splitlines()
    return [_json(line, f"{args.references} line {n}") for n, line in enumerate(lines, 1) if line]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise BadReference(f"cannot read {path}: {e.strerror}") from None


def _json(text: str, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise BadReference(f"{where} is not JSON: {e}") from None
