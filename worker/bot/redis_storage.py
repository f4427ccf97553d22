"""`RedisStorage`: bot state in Redis hashes, with eTag compare-and-set in one Lua script.

Each item is a hash at `Keyspace.state(key)` with two fields: `e`, its eTag, and `d`, its data
as msgpack. A read of any number of keys is one pipelined round trip; a write of any number of
keys is one script that checks every eTag before it writes anything (decision 0005).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redis.commands.core import AsyncScript

from shared.keys import CHAIN_TTL_SECONDS
from shared.redisconn import Redis, is_cluster
from worker.bot import cluster_state
from worker.bot.lazy_redis import LazyRedis
from worker.bot.storage import (
    IF_ABSENT,
    EtagConflict,
    StorageError,
    StoreItem,
    decode_item,
    encode_item,
    expected_etag,
    new_etag,
)
from worker.bot.types import PendingAck
from worker.errors import TakenOver

ETAG_FIELD = "e"
"""The hash field holding an item's eTag."""

DATA_FIELD = "d"
"""The hash field holding an item's msgpack-encoded data."""

# All-or-nothing: every eTag is checked before the first key is written, and Redis runs a script
# without interleaving other commands, so no writer can slip in between check and set.
WRITE_SCRIPT = f"""
local ttl = tonumber(ARGV[1])
local group = ARGV[2]
local items = #KEYS
if group ~= '' then
  items = items - 3
  local owner = redis.call('XPENDING', KEYS[#KEYS - 2], group, ARGV[3], ARGV[3], 1)
  if #owner == 0 or owner[1][2] ~= ARGV[4] then
    return -1
  end
end
for i = 1, items do
  local expected = ARGV[3 * i + 2]
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
for i = 1, items do
  redis.call('HSET', KEYS[i], '{ETAG_FIELD}', ARGV[3 * i + 3], '{DATA_FIELD}', ARGV[3 * i + 4])
  if ttl > 0 then
    redis.call('EXPIRE', KEYS[i], ttl)
  else
    redis.call('PERSIST', KEYS[i])
  end
end
if group ~= '' then
  redis.call('SET', KEYS[#KEYS - 1], ARGV[3], 'EX', {CHAIN_TTL_SECONDS})
  redis.call('DEL', KEYS[#KEYS])
  redis.call('XACK', KEYS[#KEYS - 2], group, ARGV[3])
end
return 0
"""
"""KEYS: the items' hashes, then (when committing a turn) the stream, the conversation's done
pointer and the entry's record of sent replies (deleted: a committed entry never runs again).
ARGV[1]: TTL in seconds (0: none); ARGV[2], ARGV[3], ARGV[4]: the consumer group, the entry id
to commit (move the pointer to, and acknowledge) once everything is written, and the consumer
that must still own it — fenced: -1 and nothing written if another consumer took it over ('' for
no commit); then per key its expected eTag ('' for an unconditional write, IF_ABSENT to create
only), its new eTag and its data. Returns 0, or `{index, stored eTag}` (1-based, '' if the key
does not exist) for the first conflict, having written, moved and acknowledged nothing."""


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

    async def read(self, keys: Sequence[str]) -> dict[str, StoreItem]:
        """The items of `keys` that exist, each with `"eTag"` set: one command for all keys."""
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
        items: dict[str, StoreItem] = {}
        for key, (etag, data) in zip(keys, rows, strict=True):
            if etag is not None and data is not None:
                items[key] = decode_item(key, data, etag.decode())
        return items

    async def write(self, changes: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """Store every item or none (see `Storage.write`) in one script; return the new eTags."""
        return await self.write_and_ack(changes, None)

    async def write_and_ack(
        self, changes: Mapping[str, Mapping[str, Any]], ack: PendingAck | None
    ) -> dict[str, str]:
        """`write`, and in the same atomic script acknowledge the stream entry the turn came
        from: state committed means entry acknowledged, in one command. Sets `ack.done`.

        On a Redis Cluster this is atomic per slot (see `worker.bot.cluster_state`).
        """
        if not changes:
            return {}
        keys = list(changes)
        etags = {key: new_etag() for key in keys}
        expected = {key: expected_etag(key, changes[key]) for key in keys}
        redis_keys = [self._key(key) for key in keys]
        args: list[str | bytes | int] = [self._ttl, "", "", ""]
        if ack is not None:
            redis_keys += [ack.stream, ack.done_key, ack.sent_key]
            args[1:4] = [ack.group, ack.entry_id, ack.consumer]
        for key in keys:
            args += [expected[key] or "", etags[key], encode_item(key, changes[key])]
        result: Any
        if is_cluster(self._redis.client()):
            # One script per slot; the slot of the stream entry (with the conversation's state)
            # last, so that the entry is acknowledged only after every other slot was written.
            result = await cluster_state.write_per_slot(
                self._write_script(), redis_keys, args, committing=ack is not None
            )
        else:
            result = await self._write_script()(keys=redis_keys, args=args)
        if result == -1:
            raise TakenOver(f"entry {ack.entry_id if ack else ''} now belongs to another worker")
        if result != 0:
            index, stored = result
            key = keys[index - 1]
            raise EtagConflict(key, str(expected[key]), stored.decode() or None)
        if ack is not None:
            ack.done = True
        return etags

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys` in one command; keys that do not exist are ignored."""
        if keys:
            await self._redis.client().delete(*(self._key(key) for key in keys))

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
