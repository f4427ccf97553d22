"""What only `RedisStorage` promises: key layout, TTL, round trips, its own client, bad data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection

from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from worker.bot.redis_storage import RedisStorage
from worker.bot.storage import ETAG, StorageError


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts every write to a Redis socket in this process: a pipeline is one, each command of a
    command-by-command loop is one. Yields a one-element list holding the count."""
    count = [0]
    send = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        count[0] += 1
        await send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    yield count


async def test_items_are_hashes_under_the_prefix(settings: Settings, redis: Redis) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    key = "msteams/conversations/19:abc"
    etag = (await storage.write({key: {"v": 1, ETAG: "*"}}))[key]
    redis_key = Keyspace(settings.key_prefix, 1).state(key)
    assert redis_key == f"{settings.key_prefix}:state:{key}"
    assert [k async for k in redis.scan_iter(match=f"{settings.key_prefix}:*")] == [
        redis_key.encode()
    ]
    stored: Any = await redis.hgetall(redis_key)
    assert set(stored) == {b"e", b"d"}  # the eTag is stored beside the data, not inside it
    assert stored[b"e"] == etag.encode()


async def test_ttl_is_set_by_every_write_and_removed_without_one(
    settings: Settings, redis: Redis
) -> None:
    expiring = RedisStorage(redis, key_prefix=settings.key_prefix, ttl_seconds=60)
    lasting = RedisStorage(redis, key_prefix=settings.key_prefix)
    redis_key = Keyspace(settings.key_prefix, 1).state("k")
    await lasting.write({"k": {"v": 1}})
    assert await redis.pttl(redis_key) == -1
    await expiring.write({"k": {"v": 2}})
    assert 0 < await redis.pttl(redis_key) <= 60_000
    await lasting.write({"k": {"v": 3}})
    assert await redis.pttl(redis_key) == -1  # a storage without TTL makes the item lasting
    with pytest.raises(ValueError, match="ttl_seconds"):
        RedisStorage(redis, ttl_seconds=0)


async def test_read_and_write_of_many_keys_are_one_round_trip_each(
    settings: Settings, redis: Redis, round_trips: list[int]
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    keys = [f"k{n}" for n in range(10)]
    await storage.write({key: {"n": n} for n, key in enumerate(keys)})  # loads the script
    await storage.read(keys)  # loads the read script: first use only
    round_trips[0] = 0
    etags = await storage.write({key: {"n": n + 1} for n, key in enumerate(keys)})
    assert round_trips[0] == 1
    round_trips[0] = 0
    read = await storage.read([*keys, "missing"])
    assert round_trips[0] == 1
    assert read == {key: {"n": n + 1, ETAG: etags[key]} for n, key in enumerate(keys)}


async def test_a_flushed_script_cache_is_reloaded(settings: Settings, redis: Redis) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    await storage.write({"k": {"v": 1}})
    await redis.script_flush()  # what a restart or failover does
    etag = (await storage.write({"k": {"v": 2}}))["k"]
    assert await storage.read(["k"]) == {"k": {"v": 2, ETAG: etag}}


async def test_its_own_client_comes_from_the_environment_on_first_use(
    settings: Settings, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    storage = RedisStorage()  # as a bot module would, at import time: no URL known yet
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TURNSTREAM_KEY_PREFIX", settings.key_prefix)
    etag = (await storage.write({"k": {"v": 1}}))["k"]
    assert await storage.read(["k"]) == {"k": {"v": 1, ETAG: etag}}
    assert await redis.exists(Keyspace(settings.key_prefix, 1).state("k")) == 1

    client = storage._redis.client()  # private: the only handle on the client it opened
    assert client is not None and client is not redis
    client_id = await client.client_id()
    await storage.aclose()
    for _ in range(500):  # the server notices the close a moment later
        if not await redis.client_list(client_id=[client_id]):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the client the storage opened is still connected after aclose()")
    # A storage that opened its own client opens a new one when used again.
    assert (await storage.read(["k"]))["k"]["v"] == 1
    await storage.aclose()


async def test_a_url_argument_wins_and_a_passed_client_stays_open(
    settings: Settings, redis: Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1")  # nothing listens there
    by_url = RedisStorage(url=redis_url, key_prefix=settings.key_prefix)
    await by_url.write({"k": {"v": 1}})
    await by_url.aclose()

    passed = RedisStorage(redis, key_prefix=settings.key_prefix)
    assert (await passed.read(["k"]))["k"]["v"] == 1
    await passed.aclose()
    assert await redis.ping()
    with pytest.raises(ValueError, match="not both"):
        RedisStorage(redis, url=redis_url)


async def test_no_url_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(StorageError, match="REDIS_URL"):
        await RedisStorage().read(["k"])


async def test_a_client_decoding_responses_is_refused(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisStorage(client)
    await client.aclose()


async def test_unreadable_stored_data_is_an_error_naming_the_key(
    settings: Settings, redis: Redis
) -> None:
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    keys = Keyspace(settings.key_prefix, 1)
    await redis.hset(keys.state("garbage"), mapping={"e": "x", "d": b"\xc1"})  # 0xc1: never used
    with pytest.raises(StorageError, match=repr("garbage")):
        await storage.read(["garbage"])
