"""The whole path on a 3-master Redis Cluster: gateway (slot-routed enqueue) -> shard streams
spread over the masters -> workers reading each shard -> connector; with conversation state
committed in its shard's slot, user state in slots of its own, and order kept per conversation."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from samples.echo import bot as echo
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes, worker_env
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector
from turnstream.embedded_cluster import EmbeddedCluster
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e


async def _post(http: aiohttp.ClientSession, gateway: str, activity: dict[str, Any]) -> None:
    async with http.post(
        f"{gateway}/api/messages",
        data=orjson.dumps(activity),
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 202, await response.text()


async def _entries_read(redis: Redis, stream: str) -> int:
    groups: Any = await redis.xinfo_groups(stream)
    return sum(int(group["entries-read"] or 0) for group in groups)


async def test_the_shards_spread_over_every_master(
    cluster: EmbeddedCluster, cluster_keys: Keyspace
) -> None:
    masters = {cluster.master_of(stream).port for stream in cluster_keys.streams()}
    assert len(masters) == 3


async def test_echo_end_to_end_on_a_cluster(
    cluster_settings: Settings,
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    dev, service_url = connector
    conversations, messages = 12, 5
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(cluster_settings, echo, concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(cluster_settings)) as gateway, aiohttp.ClientSession() as http:

        async def talk(name: str) -> None:
            for n in range(messages):
                activity = message(
                    f"{name} #{n}",
                    activity_id=f"{name}-{n}",
                    conversation=name,
                    service_url=service_url,
                )
                await _post(http, gateway, activity)

        names = [f"conv-{i}" for i in range(conversations)]
        await asyncio.gather(*(talk(name) for name in names))
        # A channel's resend of an activity id already queued: answered 202, not run again.
        again = message("x", activity_id="conv-0-0", conversation="conv-0", service_url=service_url)
        await _post(http, gateway, again)
        received = await dev.wait_for(conversations * messages, within=30)
    stop.set()
    consumer = await worker

    assert consumer.turns_done == conversations * messages
    for name in names:
        texts = [r.body["text"] for r in received if r.conversation_id == name]
        assert texts == [f"Echo: {name} #{n}" for n in range(messages)]
    assert await pending_count(cluster_redis, cluster_keys) == 0
    read = [await _entries_read(cluster_redis, stream) for stream in cluster_keys.streams()]
    assert sum(read) == conversations * messages
    assert sum(1 for n in read if n) > 3  # spread over shards (and so over masters)


async def test_two_workers_keep_order_and_state_on_a_cluster(
    cluster_settings: Settings,
    cluster_redis: Redis,
    cluster_keys: Keyspace,
    connector: tuple[DevConnector, str],
) -> None:
    """The counter bot (conversation state) across two worker processes: every conversation's
    replies are 1..M, so no turn was lost, repeated or run out of order."""
    dev, service_url = connector
    conversations, messages = 16, 8
    workers = await start_workers(
        worker_env(cluster_settings), "samples.counter:bot", 2, "--concurrency", "4"
    )
    try:
        async with (
            serving(create_app(cluster_settings)) as gateway,
            aiohttp.ClientSession() as http,
        ):

            async def talk(name: str) -> None:
                for n in range(messages):  # back to back, no waiting for replies
                    activity = message(
                        f"m{n}",
                        activity_id=f"{name}-{n}",
                        conversation=name,
                        service_url=service_url,
                    )
                    await _post(http, gateway, activity)

            await asyncio.gather(*(talk(f"c{i}") for i in range(conversations)))
            await dev.wait_for(conversations * messages, within=60)
    finally:
        logs = await stop_processes(workers)

    for i in range(conversations):
        replies = [a for a in dev.activities() if a["conversation"]["id"] == f"c{i}"]
        assert [r["text"] for r in replies] == [str(n + 1) for n in range(messages)], logs
    assert await pending_count(cluster_redis, cluster_keys) == 0
    # The conversation's state lives in its shard's slot, beside the stream.
    state_key = cluster_keys.state("test/conversations/c3")
    shard = cluster_keys.shard_of("test/c3")
    assert state_key.startswith(f"{cluster_keys.prefix}:{{{shard}}}:state:")
    assert await cluster_redis.hget(state_key, "e") is not None
