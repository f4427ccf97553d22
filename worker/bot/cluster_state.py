"""Bot state on a Redis Cluster: what is atomic per slot, and what is not.

On a cluster a script may only touch keys of one slot. A conversation's state keys carry its
shard's hash tag (`Keyspace.state`), so they share the slot of its stream entry: a turn's
conversation and private-conversation state, the move of its commit pointer and the XACK stay
one atomic, fenced script. User state (`{channel}/users/{id}`) is shared by every conversation
of the user and lives in slots of its own: it is written first, by its own eTag-checked script
per slot, and only then does the conversation's slot commit. So on a cluster:

- a conflict on user state changes nothing and the turn re-runs (as on one server);
- a conflict on conversation state, or a takeover caught by the fence, after user state was
  written leaves that user-state write in place: the re-run turn sees it, so its user-state
  changes may be applied twice (decision 0012);
- inside a turn, a write to another slot than the stream entry's cannot run inside the
  ownership fence (the fence reads the stream's pending list): the turn's commit object checks
  ownership before it (`TurnCommit.ensure_owned`), which is a check, not an atomic fence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.crc import key_slot

from shared.redis.connection import Redis


@dataclass(frozen=True, slots=True)
class Part:
    """The items of one write that share a slot: their indexes in the write, their keys and
    the script's ARGV for them alone."""

    members: list[int]
    keys: list[str]
    args: list[str | bytes | int]


async def read_rows(client: Redis, keys: Sequence[str], fields: Sequence[str]) -> list[Any]:
    """Each key's `fields` in one pipeline: the cluster client sends one batch per master."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hmget(key, *fields)
        rows: list[Any] = await pipe.execute()
    return rows


def by_slot(
    keys: Sequence[str], args: Sequence[str | bytes | int], *, header: int, per_key: int
) -> list[Part]:
    """Split one script call into one call per slot. ARGV is `header` arguments every call
    gets, then `per_key` arguments for each key. Inside a turn, the turn's commit object runs
    the part in its stream entry's slot last (`worker.bot.turn_commit`); outside one, the
    parts run in this order."""
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(_slot(key), []).append(i)
    parts = []
    for members in groups.values():
        part_args = list(args[:header])
        for i in members:
            part_args += args[header + per_key * i : header + per_key * (i + 1)]
        parts.append(Part(members, [keys[i] for i in members], part_args))
    return parts


def _slot(key: str) -> int:
    return key_slot(key.encode())
