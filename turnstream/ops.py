"""Operator commands: `turnstream status` and `turnstream dlq list|show|replay|purge`
(`turnstream schedule` lives in `turnstream.scheduled`)."""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import ResponseError

from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.protocol.envelope import Envelope, EnvelopeError
from shared.protocol.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace
from shared.protocol.schedule import Schedule
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import Redis


@dataclass
class ShardStatus:
    shard: int
    length: int
    lag: int | None
    pending: int
    oldest_pending_seconds: float | None
    """Age of the oldest entry read but not committed (from its id's time), None if none."""
    dead_letters: int
    scheduled: int = 0
    """Scheduled turns waiting in the shard (shared.protocol.schedule)."""
    scheduled_due: int = 0
    """Of those, past their due time and not queued yet: above zero for long, nobody watches."""


async def status(redis: Redis, keys: Keyspace, now: float | None = None) -> dict[str, Any]:
    """Per shard: entries in the stream, not yet read (lag), read but not committed (pending)
    and the age of the oldest of those, dead letters; every consumer with what it holds and how
    long it has been idle; the live workers and gateways (their heartbeats)."""
    now = time.time() if now is None else now
    shards: list[ShardStatus] = []
    consumers: dict[str, dict[str, Any]] = {}
    for shard in range(keys.shards):
        stream = keys.stream(shard)
        length = await redis.xlen(stream)
        dead = await redis.xlen(keys.dead_letters(shard))
        try:
            groups: Any = await redis.xinfo_groups(stream)
            members: Any = await redis.xinfo_consumers(stream, CONSUMER_GROUP)
            summary: Any = await redis.xpending(stream, CONSUMER_GROUP)
        except ResponseError:  # no worker has created the stream or group yet
            groups, members, summary = [], [], {}
        group = next((g for g in groups if _text(g["name"]) == CONSUMER_GROUP), None)
        oldest = summary.get("min") if summary.get("pending") else None
        shards.append(
            ShardStatus(
                shard,
                length,
                group["lag"] if group else None,
                group["pending"] if group else 0,
                _age(oldest, now),
                dead,
            )
        )
        for member in members:
            seen = consumers.setdefault(_text(member["name"]), {"pending": 0, "idle_ms": None})
            seen["pending"] += member["pending"]
            idle = member["idle"]
            seen["idle_ms"] = idle if seen["idle_ms"] is None else min(seen["idle_ms"], idle)
    for shard_status, (waiting, due) in zip(
        shards, await Schedule(redis, keys).counts(now), strict=True
    ):
        shard_status.scheduled, shard_status.scheduled_due = waiting, due
    ages = [s.oldest_pending_seconds for s in shards if s.oldest_pending_seconds is not None]
    return {
        "shards": [vars(s) for s in shards],
        "consumers": consumers,
        "workers": await _heartbeats(redis, keys, "worker"),
        "gateways": {
            name: _json_or_text(value)
            for name, value in (await _heartbeats(redis, keys, "gateway")).items()
        },
        "totals": {
            "length": sum(s.length for s in shards),
            "lag": sum(s.lag or 0 for s in shards),
            "pending": sum(s.pending for s in shards),
            "oldest_pending_seconds": max(ages, default=None),
            "dead_letters": sum(s.dead_letters for s in shards),
            "scheduled": sum(s.scheduled for s in shards),
            "scheduled_due": sum(s.scheduled_due for s in shards),
        },
    }


async def _heartbeats(redis: Redis, keys: Keyspace, role: str) -> dict[str, str]:
    """The live heartbeats of a role: id -> what the process wrote in it."""
    found: list[str] = []
    async for key in redis.scan_iter(match=keys.heartbeat_pattern(role), count=1000):
        found.append(_text(key))
    if not found:
        return {}
    values: list[Any] = await redis.mget(found)
    head, tail = f"{keys.prefix}:{role}:", ":heartbeat"
    return {
        key[len(head) : -len(tail)]: _text(value)
        for key, value in sorted(zip(found, values, strict=True))
        if value is not None  # expired between the scan and the read
    }


def _age(entry_id: Any, now: float) -> float | None:
    if entry_id is None:
        return None
    milliseconds = int(_text(entry_id).split("-", 1)[0])
    return round(max(0.0, now - milliseconds / 1000), 1)


def _json_or_text(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def format_status(report: dict[str, Any]) -> str:
    """The report as a table for a terminal."""
    header = (
        f"{'shard':>5} {'length':>8} {'lag':>8} {'pending':>8} {'oldest pending':>14} "
        f"{'dead letters':>12} {'scheduled':>9} {'(due)':>9}"
    )
    lines = [header]
    for s in [*report["shards"], {"shard": "total", **report["totals"]}]:
        lag = "-" if s["lag"] is None else s["lag"]
        age = s["oldest_pending_seconds"]
        oldest = "-" if age is None else f"{age:.1f} s"
        lines.append(
            f"{s['shard']:>5} {s['length']:>8} {lag:>8} {s['pending']:>8} {oldest:>14} "
            f"{s['dead_letters']:>12} {s['scheduled']:>9} {s['scheduled_due']:>9}"
        )
    lines.append("")
    if not report["consumers"]:
        lines.append("no consumers")
    for name, c in sorted(report["consumers"].items()):
        lines.append(f"consumer {name}: {c['pending']} pending, idle {c['idle_ms'] / 1000:.1f} s")
    lines.append("")
    lines.append(f"workers alive: {len(report['workers'])}")
    lines.extend(f"  {name}: {value}" for name, value in report["workers"].items())
    lines.append(f"gateways alive: {len(report['gateways'])}")
    for name, value in report["gateways"].items():
        lines.append(f"  {name}: {_describe_gateway(value)}")
    return "\n".join(lines)


def _describe_gateway(value: Any) -> str:
    if not isinstance(value, dict):
        return str(value)
    answered = value.get("answered") or {}
    counts = ", ".join(f"{n} x {status}" for status, n in sorted(answered.items()))
    started = datetime.datetime.fromtimestamp(float(value.get("started_at", 0)), datetime.UTC)
    return f"up since {started.isoformat(timespec='seconds')}, answered {counts or 'nothing'}"


async def dead_letters(redis: Redis, keys: Keyspace, limit: int = 50) -> list[dict[str, Any]]:
    """Dead letters across shards, oldest first: id (`shard/entry`), where from, why."""
    found = []
    for shard in range(keys.shards):
        entries: Any = await redis.xrange(keys.dead_letters(shard), count=limit)
        for entry_id, fields in entries:
            found.append(_describe(shard, entry_id.decode(), fields))
    found.sort(key=lambda d: d["at"])
    return found[:limit]


async def dead_letter(redis: Redis, keys: Keyspace, dead_letter_id: str) -> dict[str, Any]:
    shard, entry_id = _parse_id(dead_letter_id, keys)
    entries: Any = await redis.xrange(keys.dead_letters(shard), entry_id, entry_id)
    if not entries:
        raise LookupError(f"no dead letter {dead_letter_id}")
    described = _describe(shard, entry_id, entries[0][1])
    described["activity"] = _activity(entries[0][1])
    return described


async def replay(
    redis: Redis, keys: Keyspace, dead_letter_id: str, signer: EnvelopeSigner | None = None
) -> str:
    """Queue the dead letter's activity again, at the end of its conversation, and remove it
    from the dead-letter stream. Returns the new entry id.

    With a `signer` (TURNSTREAM_ENVELOPE_SECRET), only an envelope a gateway signed is replayed,
    and it is signed again: replay never turns a forged entry into a trusted one."""
    shard, entry_id = _parse_id(dead_letter_id, keys)
    entries: Any = await redis.xrange(keys.dead_letters(shard), entry_id, entry_id)
    if not entries:
        raise LookupError(f"no dead letter {dead_letter_id}")
    data = entries[0][1].get(ENVELOPE_FIELD.encode())
    try:
        envelope = Envelope.decode(data, signer) if data is not None else None
    except EnvelopeError as e:
        raise ValueError(f"{dead_letter_id} cannot be replayed: {e}") from e
    if envelope is None:
        raise ValueError(f"{dead_letter_id} holds no envelope to replay")
    # What the gateway authenticated (service URL, claims) stays with the activity.
    fresh = dataclasses.replace(envelope, received_at=time.time()).encode(signer)
    new_id: Any = await redis.eval(
        ENQUEUE_SCRIPT, ENQUEUE_KEYS, *enqueue_arguments(keys, envelope.conversation, fresh)
    )
    await redis.xdel(keys.dead_letters(shard), entry_id)
    return str(new_id.decode())


async def purge(redis: Redis, keys: Keyspace, dead_letter_id: str | None) -> int:
    """Delete one dead letter, or all of them (None). Returns how many."""
    if dead_letter_id is not None:
        shard, entry_id = _parse_id(dead_letter_id, keys)
        removed: int = await redis.xdel(keys.dead_letters(shard), entry_id)
        return removed
    total = 0
    for shard in range(keys.shards):
        total += await redis.xlen(keys.dead_letters(shard))
        await redis.delete(keys.dead_letters(shard))
    return total


def _describe(shard: int, entry_id: str, fields: dict[bytes, bytes]) -> dict[str, Any]:
    def field(name: str) -> str:
        return fields.get(name.encode(), b"").decode(errors="replace")

    activity = _activity(fields)
    at = float(field("at") or 0)
    return {
        "id": f"{shard}/{entry_id}",
        "at": datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat(timespec="seconds"),
        "reason": field("reason"),
        "deliveries": field("deliveries"),
        "from": f"{field('stream')} {field('entry')}",
        "conversation": (activity or {}).get("conversation", {}).get("id"),
        "activity_id": (activity or {}).get("id"),
    }


def _activity(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
    data = fields.get(ENVELOPE_FIELD.encode())
    try:
        return Envelope.decode(data).activity() if data is not None else None
    except EnvelopeError:
        return None


def _parse_id(dead_letter_id: str, keys: Keyspace) -> tuple[int, str]:
    shard, _, entry_id = dead_letter_id.partition("/")
    if not shard.isdigit() or not entry_id or int(shard) >= keys.shards:
        raise ValueError(f"{dead_letter_id!r} is not a dead-letter id (shard/entry, see dlq list)")
    return int(shard), entry_id


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def to_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
