"""Issue 18's reproduction: a worker frozen (SIGSTOP) while its blocked read had already taken
the conversation's next entry, past the claim timeout, then resumed (SIGCONT) after another
worker took the entry over and ran it. The bot saves its state itself (`save_changes`, no
AutoSave). The resumed worker must drop the entry: no reply, no state write.

The freeze is injected by events, not by the clock: the worker is stopped once its read is
seen blocked on the server, the entry is queued and seen delivered to it, and it is resumed
once the other worker's run of the entry is committed."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.explicit_save_bot import NAME_PROMPT, TRANSPORT_PROMPT, summary
from tests.support.processes import worker_env
from tests.support.streams import enqueue, pending_count
from turnstream.devconnector import DevConnector
from worker.bot.redis_storage import RedisStorage

pytestmark = pytest.mark.e2e

CLAIM_IDLE = "1"
BOT = "tests.support.explicit_save_bot:bot"


async def until(predicate: Callable[[], Awaitable[bool]], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within} s: {what}")
        await asyncio.sleep(0.01)


async def start(settings: Settings, log: Path, **extra: str) -> asyncio.subprocess.Process:
    env = {**worker_env(settings), "TURNSTREAM_CLAIM_IDLE_SECONDS": CLAIM_IDLE, **extra}
    with log.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", "--bot", BOT, env=env, stderr=stderr
        )


async def read_blocked(redis: Redis) -> bool:
    clients: Any = await redis.client_list()
    return any(c.get("cmd") == "xreadgroup" and "b" in c.get("flags", "") for c in clients)


async def owner_of(redis: Redis, stream: str, entry_id: str) -> str | None:
    rows: Any = await redis.xpending_range(stream, CONSUMER_GROUP, entry_id, entry_id, 1)
    return rows[0]["consumer"].decode() if rows else None


async def test_a_worker_frozen_holding_an_entry_does_not_run_it_after_a_takeover(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    connector: tuple[DevConnector, str],
    tmp_path: Path,
) -> None:
    dev, service_url = connector
    storage = RedisStorage(redis, key_prefix=settings.key_prefix)
    # A long Redis timeout: the frozen worker's blocked read must still be waiting for its
    # answer when it wakes up. With the default (1 s + the 1 s block), a longer freeze makes the
    # client give the read up and send it again, and the worker never sees the entry: safe, but
    # not the situation.
    frozen = await start(settings, tmp_path / "frozen.log", TURNSTREAM_REDIS_TIMEOUT_SECONDS="30")
    workers = [frozen]
    try:
        for attempt in range(5):  # another try only if the read's block ran out meanwhile
            conversation = f"conv-{attempt}"
            replies = len(dev.activities())
            await enqueue(redis, keys, _message("hi", conversation, service_url, attempt, 0))
            await dev.wait_for(replies + 1, within=20)
            assert dev.activities()[-1]["text"] == TRANSPORT_PROMPT
            await until(lambda: _no_pending(redis, keys), 20, "its turn committed")

            await until(lambda: read_blocked(redis), 10, "the worker's read blocked")
            os.kill(frozen.pid, signal.SIGSTOP)
            stream = keys.stream(keys.shard_of(f"test/{conversation}"))
            entry_id = await enqueue(
                redis, keys, _message("2", conversation, service_url, attempt, 1)
            )
            if await owner_of(redis, stream, entry_id) is not None:
                break  # the frozen worker's blocked read took it: the situation
            os.kill(frozen.pid, signal.SIGCONT)  # it reads the entry normally: start over
            await dev.wait_for(replies + 2, within=20)
        else:
            raise AssertionError("the frozen worker's read never took the entry")
        before = len(dev.activities())

        workers.append(await start(settings, tmp_path / "other.log"))  # takes the entry over

        async def committed() -> bool:
            return await owner_of(redis, stream, entry_id) is None

        await until(committed, 30, "the other worker committed the entry")
        assert [a["text"] for a in dev.activities()[before:]] == [NAME_PROMPT]
        user = f"test/users/user-{attempt}"
        assert (await storage.read([user]))[user]["answers"] == 2

        os.kill(frozen.pid, signal.SIGCONT)

        async def frozen_dropped_it() -> bool:
            return "another worker" in (tmp_path / "frozen.log").read_text()

        await until(frozen_dropped_it, 20, "the resumed worker gave the entry up")
        await enqueue(redis, keys, _message("Ada", conversation, service_url, attempt, 2))
        await dev.wait_for(before + 2, within=20)
        await until(lambda: _no_pending(redis, keys), 20, "everything committed")

        texts = [a["text"] for a in dev.activities()[before:]]
        # The prompt went out once, and "2" was consumed once, as the mode of transport.
        assert texts == [NAME_PROMPT, summary("Bus", "Ada")], texts
        assert (await storage.read([user]))[user]["answers"] == 3  # one per message
        log = (tmp_path / "frozen.log").read_text()
        expected = (
            f"entry {entry_id} was taken over by another worker; dropped here (found at start)"
        )
        assert expected in log, log
    finally:
        for process in workers:
            if process.returncode is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                await process.wait()


async def _no_pending(redis: Redis, keys: Keyspace) -> bool:
    return await pending_count(redis, keys) == 0


def _message(text: str, conversation: str, service_url: str, user: int, n: int) -> dict[str, Any]:
    return message(
        text,
        activity_id=f"{conversation}-{n}",
        conversation=conversation,
        service_url=service_url,
        user=f"user-{user}",
    )
