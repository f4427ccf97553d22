"""StorageBaseTests, the storage contract as checks a bot author runs: every backend passes
them, and a storage that breaks the contract fails the check that covers it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from shared.redis.connection import connect
from shared.settings import Settings
from worker.bot.redis_storage import RedisStorage
from worker.bot.storage import ETAG, MemoryStorage, Storage
from worker.bot.testing import StorageBaseTests

CHECKS = [
    name
    for name in vars(StorageBaseTests)
    if not name.startswith("_") and callable(getattr(StorageBaseTests, name))
]


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    settings: Settings = request.getfixturevalue("settings")
    client = connect(settings)
    yield RedisStorage(client, key_prefix=settings.key_prefix)
    await client.aclose()


@pytest.mark.parametrize("check", CHECKS)
async def test_every_backend_passes_every_check(storage: Storage, check: str) -> None:
    assert await getattr(StorageBaseTests, check)(storage) is True


class LastWriterWins(MemoryStorage):
    """A storage that ignores eTags: what the update check is there to catch."""

    async def write(self, changes: Mapping[str, Any] | None) -> dict[str, str]:
        unchecked = {k: {**v, ETAG: "*"} for k, v in (changes or {}).items()}
        return await super().write(unchecked if changes is not None else None)


async def test_a_storage_that_loses_updates_fails_the_update_check() -> None:
    assert len(CHECKS) == 11
    with pytest.raises(AssertionError, match="stale e_tag"):
        await StorageBaseTests.update_object(LastWriterWins())
