"""`RedisStorage`: bot state in Redis hashes, with eTag compare-and-set in one Lua script.

Each item is a hash at `Keyspace.state(key)` with two fields: `e`, its eTag, and `d`, its data
as msgpack. A read of any number of keys is one pipelined round trip; a write of any number of
keys is one script that checks every eTag before it writes anything (decision 0005).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.commands.core import AsyncScript

from shared.redis.connection import Redis, is_cluster
from worker.bot import cluster_state
from worker.bot.lazy_redis import LazyRedis
from worker.bot.storage import (
    IF_ABSENT,
    Changes,
    EtagConflict,
    StorageError,
    decode_item,
    encode_item,
    expected_etag,
    new_etag,
    require_changes,
)
from worker.bot.turn_commit import FencedWrite, TurnCommit

ETAG_FIELD = "e"
"""The hash field holding an item's eTag."""

DATA_FIELD = "d"
"""The hash field holding an item's msgpack-encoded data."""

# All-or-nothing: every eTag is checked before the first key is written, and Redis runs a script
# without interleaving other commands, so no writer can slip in between check and set.
WRITE_SCRIPT = f"""
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local expected = ARGV[3 * i - 1]
  if expected ~= '' then
    local stored = redis.call('HGET', KEYS[i], '{ETAG_FIELD}')
    if expected == '{IF_ABSENT}' then
      if stored then
        return {{i, stored}}
      end
    elseif stored ~= expected then
      return {{i, stored or ''}}
    end
  end
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], '{ETAG_FIELD}', ARGV[3 * i], '{DATA_FIELD}', ARGV[3 * i + 1])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[i], ttl)
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return 0
"""
"""KEYS: the items' hashes. ARGV[1]: TTL in seconds (0: none); then per key its expected eTag
('' for an unconditional write, IF_ABSENT to create only), its new eTag and its data. Returns
0, or `{index, stored eTag}` (1-based, '' if the key does not exist) for the first conflict,
having written nothing. Within a turn the runtime runs it inside its fence
(`worker.bot.turn_commit`)."""

DELETE_SCRIPT = """
for i = 1, #KEYS do
  redis.call('DEL', KEYS[i])
end
return 0
"""
"""KEYS: the items' hashes, removed. Within a turn, run fenced like a write."""


READ_SCRIPT = f"""
local rows = {{}}
for i = 1, #KEYS do
  rows[i] = redis.call('HMGET', KEYS[i], '{ETAG_FIELD}', '{DATA_FIELD}')
end
return rows
"""
"""Every item's eTag and data in one command (a turn's whole state in one call)."""


class RedisStorage:
    """`Storage` in Redis: optimistic concurrency with eTags, one round trip per call.

    Pass a redis-py asyncio `client` (the caller keeps owning it), or nothing: the storage then
    opens its own client on first use, from `url` or `REDIS_URL`, so a bot module can build
    `RedisStorage()` at import time, before the worker's event loop runs or the dev stack has set
    `REDIS_URL`. Keys live under `key_prefix` (default: `TURNSTREAM_KEY_PREFIX`, else
    `turnstream`). With `ttl_seconds`, every write (re)sets the item's expiry; without, items
    never expire.
    """

    def __init__(
        self,
        client: Redis | None = None,
        *,
        url: str | None = None,
        key_prefix: str | None = None,
        ttl_seconds: int | None = None,
    ) -> None:
        if ttl_seconds is not None and ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, not {ttl_seconds}")
        self._redis = LazyRedis(client, url=url, key_prefix=key_prefix, missing_url=StorageError)
        self._ttl = ttl_seconds or 0
        self._script: AsyncScript | None = None
        self._read: AsyncScript | None = None

    async def read(self, keys: Sequence[str] | None) -> dict[str, Any]:
        """The items of `keys` that exist, each with its eTag set: one command for all keys."""
        if not keys:
            return {}
        client = self._redis.client()
        rows: list[Any]
        if is_cluster(client):
            rows = await cluster_state.read_rows(
                client, [self._key(key) for key in keys], (ETAG_FIELD, DATA_FIELD)
            )
        else:
            if self._read is None:
                self._read = client.register_script(READ_SCRIPT)
            rows = await self._read(keys=[self._key(key) for key in keys])
        return _items(keys, rows)

    async def read_for_turn(self, keys: Sequence[str], commit: TurnCommit) -> dict[str, Any]:
        """`read` for a turn: on the worker's own plain RESP connections when this storage
        uses the worker's Redis (opened from REDIS_URL, one server), which costs a fraction of
        redis-py's client CPU; else as `read`. The same items either way."""
        if not keys:
            return {}
        if not self._redis.on_worker_server or is_cluster(self._redis.client()):
            return await self.read(keys)
        rows = await commit.read(READ_SCRIPT, [self._key(key) for key in keys], [])
        return _items(keys, rows)

    async def write(self, changes: Changes | None) -> dict[str, str]:
        """Store every item or none (see `Storage.write`) in one script; return the new eTags.

        On a Redis Cluster a write is atomic per slot (see `worker.bot.cluster_state`)."""
        require_changes(changes)
        return await self._write(changes or {}, None, final=False)

    async def write_for_turn(
        self, changes: Changes, commit: TurnCommit, *, final: bool
    ) -> dict[str, str]:
        """`write` for a turn: the turn's commit object runs the script inside the ownership
        fence of the turn's stream entry, and with `final` commits the turn (moves its
        conversation on and acknowledges the entry) in the same script: state committed means
        entry acknowledged, in one command. On a cluster, atomic per slot."""
        return await self._write(changes, commit, final=final)

    async def delete(self, keys: Sequence[str] | None) -> None:
        """Remove `keys` in one command; keys that do not exist are ignored."""
        if keys:
            await self._redis.client().delete(*(self._key(key) for key in keys))

    async def delete_for_turn(self, keys: Sequence[str], commit: TurnCommit) -> None:
        """`delete`, inside the ownership fence of the turn's stream entry."""
        if not keys:
            return
        client = self._redis.client()
        redis_keys = [self._key(key) for key in keys]
        if is_cluster(client):
            writes = [
                FencedWrite(DELETE_SCRIPT, part.keys, part.args)
                for part in cluster_state.by_slot(redis_keys, [], header=0, per_key=0)
            ]
        else:
            writes = [FencedWrite(DELETE_SCRIPT, redis_keys, [])]
        await commit.write(client, writes)

    async def _write(
        self, changes: Changes, commit: TurnCommit | None, *, final: bool
    ) -> dict[str, str]:
        if not changes:
            return {}
        keys = list(changes)
        etags = {key: new_etag() for key in keys}
        expected = {key: expected_etag(key, changes[key]) for key in keys}
        redis_keys = [self._key(key) for key in keys]
        args: list[str | bytes | int] = [self._ttl]
        for key in keys:
            args += [expected[key] or "", etags[key], encode_item(key, changes[key])]
        client = self._redis.client()
        if is_cluster(client):
            parts = cluster_state.by_slot(redis_keys, args, header=1, per_key=3)
        else:
            parts = [cluster_state.Part(list(range(len(keys))), redis_keys, args)]
        answers: list[Any]
        if commit is not None:
            writes = [FencedWrite(WRITE_SCRIPT, part.keys, part.args) for part in parts]
            answers = await commit.write(client, writes, commit=final)
        else:
            script = self._write_script()
            answers = []
            for part in parts:  # on a cluster, slot after slot
                answers.append(await script(keys=part.keys, args=part.args))
                if answers[-1] != 0:
                    break
        for part, answer in zip(parts, answers, strict=False):
            if answer is not None and answer != 0:
                index, stored = answer
                key = keys[part.members[int(index) - 1]]
                raise EtagConflict(key, str(expected[key]), stored.decode() or None)
        return etags

    async def aclose(self) -> None:
        """Close the client this storage opened itself (a client passed in stays open)."""
        self._script = self._read = None
        await self._redis.aclose()

    def _write_script(self) -> AsyncScript:
        if self._script is None:
            # register_script sends EVALSHA and loads the script itself on NOSCRIPT (after a
            # restart or failover emptied the server's script cache).
            self._script = self._redis.client().register_script(WRITE_SCRIPT)
        return self._script

    def _key(self, storage_key: str) -> str:
        return self._redis.keys().state(storage_key)


def _items(keys: Sequence[str], rows: list[Any]) -> dict[str, Any]:
    """The items of `keys` that exist, from their `(eTag, data)` rows, each with its eTag."""
    items: dict[str, Any] = {}
    for key, (etag, data) in zip(keys, rows, strict=True):
        if etag is not None and data is not None:
            items[key] = decode_item(key, data, etag.decode())
    return items
