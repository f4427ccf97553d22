"""Scheduled turns on a 3-master Redis Cluster: every shard's due set, records and keys live in
its stream's slot, so the scripts run there; racing watchers queue each turn once, and a worker
runs the reminder sample's reminders in order."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from samples.reminder_bot import bot as reminder_bot
from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.streams import enqueue, envelopes_in
from turnstream.devconnector import DevConnector
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e


def _reference(conversation: str) -> dict[str, Any]:
    return {
        "channelId": "test",
        "serviceUrl": "http://127.0.0.1:1/",
        "conversation": {"id": conversation},
    }


async def test_racing_watchers_queue_each_turn_of_every_shard_once(
    cluster_redis: Redis, cluster_keys: Keyspace
) -> None:
    schedule = Schedule(cluster_redis, cluster_keys)
    now = time.time()
    ids = [
        await schedule.schedule(_reference(f"c-{n}"), now - 1, event="e", value=n, key="k")
        for n in range(64)
    ]
    assert len({schedule.shard_of_id(i) for i in ids}) > 8  # spread over the masters
    assert await schedule.cancel(conversation="test/c-0", key="k")
    listed = await schedule.waiting(conversation="test/c-1")
    assert [t.id for t in listed] == [ids[1]]
    assert sum(w for w, _ in await schedule.counts(now)) == 63

    rounds = await asyncio.gather(
        *(
            Schedule(cluster_redis, cluster_keys).fire_due(range(cluster_keys.shards), now)
            for _ in range(4)
        )
    )

    assert sum(len(r.lateness) for r in rounds) == 63
    values = [
        e.activity()["value"]
        for stream in cluster_keys.streams()
        for e in await envelopes_in(cluster_redis, stream)
    ]
    assert sorted(values) == list(range(1, 64))
    assert await schedule.waiting() == []


async def test_the_reminder_sample_on_a_cluster(
    cluster_settings: Settings,
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    conversations = [f"conv-{n}" for n in range(8)]
    for conversation in conversations:  # all queued first: "hello" precedes the reminder
        for text in ("remind me in 1 second to stretch", "hello"):
            activity = message(
                text,
                conversation=conversation,
                service_url=service_url,
                activity_id=uuid.uuid4().hex,
            )
            await enqueue(cluster_redis, cluster_keys, activity)
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(cluster_settings, reminder_bot, handle_signals=False, stop=stop)
    )
    try:
        await dev.wait_for(3 * len(conversations), within=30)
    finally:
        stop.set()
        await worker
    for conversation in conversations:
        texts = [a["text"] for a in dev.activities() if a["conversation"]["id"] == conversation]
        assert texts[0].startswith("OK, I will remind you to stretch at ")
        assert texts[1:] == [texts[1], "Reminder: stretch"] and texts[1].startswith("Say ")
