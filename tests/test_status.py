"""`turnstream status` against a real server holding a known backlog: the numbers, the table,
JSON, the live workers and gateways, and --watch."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

import pytest

from gateway.app import create_app
from shared.protocol.keys import CONSUMER_GROUP, Keyspace, conversation_key
from shared.protocol.schedule import Schedule
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.processes import worker_env
from tests.support.streams import enqueue
from tests.test_ops_cli import in_thread
from tests.test_takeover_e2e import wait_until
from turnstream import ops

pytestmark = pytest.mark.e2e


async def known_backlog(redis: Redis, keys: Keyspace) -> tuple[int, int, str]:
    """Three activities in one conversation, two in another; one entry read and not committed;
    one dead letter. Returns the two conversations' shards and the id of the pending entry."""
    for n in range(3):
        await enqueue(redis, keys, message(f"a{n}", activity_id=f"a{n}", conversation="a"))
    for n in range(2):
        await enqueue(redis, keys, message(f"b{n}", activity_id=f"b{n}", conversation="b"))
    for stream in keys.streams():
        await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
    shard_a = keys.shard_of(conversation_key("test", "a"))
    shard_b = keys.shard_of(conversation_key("test", "b"))
    read: Any = await redis.xreadgroup(
        CONSUMER_GROUP, "reader-1", {keys.stream(shard_a): ">"}, count=1
    )
    pending_id = read[0][1][0][0].decode()
    await redis.xadd(keys.dead_letters(shard_b), {"reason": "poison"})
    return shard_a, shard_b, pending_id


async def test_status_counts_a_known_backlog(
    settings: Settings, redis: Redis, keys: Keyspace
) -> None:
    shard_a, shard_b, pending_id = await known_backlog(redis, keys)
    await redis.set(keys.worker_heartbeat("pod-w1"), "reader-1 turns_done=7 failed=0", ex=15)
    entry_time = int(pending_id.split("-")[0]) / 1000
    schedule = Schedule(redis, keys)
    reference = {"channelId": "test", "serviceUrl": "http://127.0.0.1:9/"}
    await schedule.schedule(reference | {"conversation": {"id": "s-1"}}, entry_time, event="e")
    await schedule.schedule(
        reference | {"conversation": {"id": "s-2"}}, entry_time + 600, event="e"
    )
    report = await ops.status(redis, keys, now=entry_time + 12.5)
    shards = report["shards"]
    assert shards[shard_a]["length"] == 3 and shards[shard_a]["lag"] == 2
    assert shards[shard_a]["pending"] == 1
    assert shards[shard_a]["oldest_pending_seconds"] == 12.5
    assert shards[shard_b]["dead_letters"] == 1
    assert report["totals"] == {
        "length": 5,
        "lag": 4,
        "pending": 1,
        "oldest_pending_seconds": 12.5,
        "dead_letters": 1,
        "scheduled": 2,
        "scheduled_due": 1,
    }
    assert report["consumers"]["reader-1"]["pending"] == 1
    assert report["workers"] == {"pod-w1": "reader-1 turns_done=7 failed=0"}

    async with serving(create_app(settings)) as _:  # a gateway announces itself
        await wait_until(lambda: _gateways(redis, keys, 1), within=10)
        printed = await in_thread(settings, "status")
        as_json = json.loads((await in_thread(settings, "status", "--json")).stdout)
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    total = next(line for line in lines if line.lstrip().startswith("total")).split()
    assert total[:4] == ["total", "5", "4", "1"] and total[-3:] == ["1", "2", "1"]
    assert "consumer reader-1: 1 pending" in printed.stdout
    assert "workers alive: 1" in lines and "gateways alive: 1" in lines
    assert as_json["totals"]["lag"] == 4
    (gateway,) = as_json["gateways"].values()
    assert gateway["started_at"] > 0
    assert await _gateways(redis, keys, 0)  # gone at a clean stop


async def _gateways(redis: Redis, keys: Keyspace, count: int) -> bool:
    return len((await ops.status(redis, keys))["gateways"]) == count


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_watch_refreshes_until_interrupted(settings: Settings, stop: signal.Signals) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "turnstream", "status", "--json", "--watch", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(settings),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            first = process.stdout.readline()
            second = process.stdout.readline()
            process.send_signal(stop)
            code = process.wait(10)
            errors = process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert json.loads(first)["totals"]["length"] == 0
    assert json.loads(second)["totals"]["length"] == 0
    assert code == 0, errors
    assert "Traceback" not in errors
