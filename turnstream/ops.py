"""Operator commands: `turnstream status` and `turnstream dlq list|show|replay|purge`."""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.exceptions import ResponseError

from gateway.enqueue import ENQUEUE_KEYS, ENQUEUE_SCRIPT, enqueue_arguments
from shared.envelope import Envelope, EnvelopeError
from shared.keys import CONSUMER_GROUP, ENVELOPE_FIELD, Keyspace
from shared.redisconn import Redis
from shared.signing import EnvelopeSigner


@dataclass
class ShardStatus:
    shard: int
    length: int
    lag: int | None
    pending: int
    dead_letters: int


async def status(redis: Redis, keys: Keyspace) -> dict[str, Any]:
    """Per shard: entries in the stream, not yet read (lag), read but not committed (pending),
    dead letters; and every consumer with what it holds."""
    shards: list[ShardStatus] = []
    consumers: dict[str, dict[str, Any]] = {}
    for shard in range(keys.shards):
        stream = keys.stream(shard)
        length = await redis.xlen(stream)
        dead = await redis.xlen(keys.dead_letters(shard))
        try:
            groups: Any = await redis.xinfo_groups(stream)
            members: Any = await redis.xinfo_consumers(stream, CONSUMER_GROUP)
        except ResponseError:  # no worker has created the stream or group yet
            groups, members = [], []
        group = next((g for g in groups if _text(g["name"]) == CONSUMER_GROUP), None)
        shards.append(
            ShardStatus(
                shard,
                length,
                group["lag"] if group else None,
                group["pending"] if group else 0,
                dead,
            )
        )
        for member in members:
            seen = consumers.setdefault(_text(member["name"]), {"pending": 0, "idle_ms": None})
            seen["pending"] += member["pending"]
            idle = member["idle"]
            seen["idle_ms"] = idle if seen["idle_ms"] is None else min(seen["idle_ms"], idle)
    return {
        "shards": [vars(s) for s in shards],
        "consumers": consumers,
        "totals": {
            "length": sum(s.length for s in shards),
            "lag": sum(s.lag or 0 for s in shards),
            "pending": sum(s.pending for s in shards),
            "dead_letters": sum(s.dead_letters for s in shards),
        },
    }


def format_status(report: dict[str, Any]) -> str:
    lines = [f"{'shard':>5} {'length':>8} {'lag':>8} {'pending':>8} {'dead letters':>12}"]
    for s in report["shards"]:
        lag = "-" if s["lag"] is None else s["lag"]
        lines.append(
            f"{s['shard']:>5} {s['length']:>8} {lag:>8} {s['pending']:>8} {s['dead_letters']:>12}"
        )
    t = report["totals"]
    lines.append(
        f"{'total':>5} {t['length']:>8} {t['lag']:>8} {t['pending']:>8} {t['dead_letters']:>12}"
    )
    lines.append("")
    if not report["consumers"]:
        lines.append("no consumers")
    for name, c in sorted(report["consumers"].items()):
        lines.append(f"consumer {name}: {c['pending']} pending, idle {c['idle_ms'] / 1000:.1f} s")
    return "\n".join(lines)


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
