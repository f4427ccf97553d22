"""The worker's recordings in the conversation registry: once per conversation and user per
refresh, again when the reference changes, never with the registry turned off."""

from __future__ import annotations

import dataclasses
import tracemalloc
from typing import Any

from samples.echo import bot as echo
from shared.protocol.keys import Keyspace
from shared.protocol.registry import ConversationRegistry
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue
from turnstream.devconnector import DevConnector
from worker.runtime.conversation_registry import RegistryRecorder
from worker.runtime.process import run_worker


async def test_an_unchanged_conversation_is_not_written_again_a_changed_one_is(
    redis: Redis, keys: Keyspace
) -> None:
    recorder = RegistryRecorder(ConversationRegistry(redis, keys, 3600))
    said: dict[str, Any] = message("hi", service_url="https://a.example/")
    record = keys.registry_conversation("test/conv-1")

    await recorder.saw(said)
    assert await redis.exists(record)
    await redis.delete(record)
    await recorder.saw(said)  # this process recorded it a moment ago: no write
    assert not await redis.exists(record)
    await recorder.saw(said | {"serviceUrl": "https://b.example/"})  # moved: written at once
    assert await redis.exists(record)
    await recorder.saw(said)  # and back: recorded a moment ago, but no longer the latest
    found = await ConversationRegistry(redis, keys, 3600).conversation("test/conv-1")
    assert found is not None and found["reference"]["serviceUrl"] == "https://a.example/"
    await recorder.saw(message("hi", user="user-2", service_url="https://b.example/"))
    found = await ConversationRegistry(redis, keys, 3600).conversation("test/conv-1")
    assert found is not None and found["users"] == ["user-2", "user-1"]


async def test_a_worker_records_users_activities_unless_turned_off(
    settings: Settings, redis: Redis, keys: Keyspace, connector: tuple[DevConnector, str]
) -> None:
    _, service_url = connector
    await enqueue(redis, keys, message("on", conversation="c-on", service_url=service_url))
    await run_worker(settings, echo, burst=True, handle_signals=False)
    off = dataclasses.replace(settings, conversation_registry=False)
    await enqueue(redis, keys, message("off", conversation="c-off", service_url=service_url))
    await run_worker(off, echo, burst=True, handle_signals=False)

    assert await redis.exists(keys.registry_conversation("test/c-on"))
    assert not await redis.exists(keys.registry_conversation("test/c-off"))


async def test_what_a_process_remembers_per_conversation_stays_small(
    redis: Redis, keys: Keyspace
) -> None:
    """Up to MAX_REMEMBERED conversations are remembered: each must cost a few hundred bytes,
    not the 4 KB buffer behind a bytes object orjson returns (issue 24)."""
    recorder = RegistryRecorder(ConversationRegistry(redis, keys, 3600))
    said = [
        message("hi", conversation=f"remembered-{n}", service_url="https://a.example/")
        for n in range(200)
    ]
    for activity in said[:10]:  # the first recordings' one-off allocations (scripts, pools)
        await recorder.saw(activity)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for activity in said[10:]:
            await recorder.saw(activity)
        per_conversation = (tracemalloc.get_traced_memory()[0] - before) / 190
    finally:
        tracemalloc.stop()
    assert per_conversation < 1024, f"{per_conversation:.0f} bytes per conversation"
