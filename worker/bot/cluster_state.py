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
  changes may be applied twice (decision 0012).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.commands.core import AsyncScript
from redis.crc import key_slot

from shared.redisconn import Redis

_HEADER = 4
"""ARGV of the write script before the per-item triples: TTL, group, entry id, consumer."""
_COMMIT_KEYS = 3
"""KEYS after the items when committing: stream, done pointer, record of sent replies."""


async def read_rows(client: Redis, keys: Sequence[str], fields: Sequence[str]) -> list[Any]:
    """Each key's `fields` in one pipeline: the cluster client sends one batch per master."""
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hmget(key, *fields)
        rows: list[Any] = await pipe.execute()
    return rows


async def write_per_slot(
    script: AsyncScript,
    keys: Sequence[str],
    args: Sequence[str | bytes | int],
    *,
    committing: bool,
) -> Any:
    """Run the state write script once per slot, the commit's slot last; answer as one call of
    it would: 0, -1 (fenced), or [1-based index into `keys`, stored eTag] for a conflict."""
    items = len(keys) - (_COMMIT_KEYS if committing else 0)
    commit_slot = _slot(keys[items]) if committing else None
    groups: dict[int, list[int]] = {}
    for i in range(items):
        groups.setdefault(_slot(keys[i]), []).append(i)
    order = [slot for slot in groups if slot != commit_slot]
    if commit_slot is not None:
        order.append(commit_slot)
    no_commit = [args[0], "", "", ""]
    for slot in order:
        members = groups.get(slot, [])
        call_keys = [keys[i] for i in members]
        call_args = list(args[:_HEADER]) if slot == commit_slot else list(no_commit)
        for i in members:
            call_args += args[_HEADER + 3 * i : _HEADER + 3 * i + 3]
        if slot == commit_slot:
            call_keys += keys[items:]
        result: Any = await script(keys=call_keys, args=call_args)
        if result == -1:
            return -1
        if result != 0:
            index, stored = result
            return [members[int(index) - 1] + 1, stored]
    return 0


def _slot(key: str) -> int:
    return key_slot(key.encode())
