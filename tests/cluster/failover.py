"""A master killed mid-run: what did the gateway acknowledge that the cluster then lost?

A local cluster (3 masters with 1 replica each, AOF on), a gateway and an echo worker in this
process, and channels posting as fast as the gateway answers. Partway through, the master that
owns some of the shards is killed with SIGKILL; its replica is promoted about two node timeouts
later. Afterwards the checker reads every shard stream: an activity answered 202 whose entry is
in no stream was lost, and every entry that is there must be replied to (the worker resumed).

    python -m tests.cluster.failover --durability none --runs 5
    python -m tests.cluster.failover --durability replica --runs 5

With `replica`/`replica-aof` the promoted master has no replica left, so its slots answer 503
until a replica joins again: acknowledged-means-durable needs 2 replicas per master to keep
accepting writes after one loss (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from gateway.app import create_app
from samples.echo import bot as echo
from shared.protocol.envelope import Envelope
from shared.protocol.keys import ENVELOPE_FIELD, Keyspace
from shared.redis.connection import Redis, connect
from shared.settings import AckDurability, Settings
from tests.support.http import serving
from turnstream.devconnector import DevConnector
from turnstream.embedded_cluster import EmbeddedCluster
from worker.runtime.process import run_worker


@dataclass
class FailoverReport:
    durability: str
    posted: int = 0
    acknowledged: int = 0
    refused: int = 0
    """Answered 503 (Redis unavailable, or replicas did not confirm in time)."""
    acknowledged_before_kill: int = 0
    lost: list[str] = field(default_factory=list)
    """Acknowledged with 202, in no stream after the failover."""
    unanswered: list[str] = field(default_factory=list)
    """In a stream after the failover, but the worker never replied to it."""
    slowest_answer_s: float = 0.0
    failover_s: float = 0.0
    """From the kill until every live node reported the cluster healthy again."""

    def render(self) -> str:
        values = dataclasses.asdict(self)
        values["lost"] = len(self.lost)
        values["unanswered"] = len(self.unanswered)
        return "  ".join(f"{k}={v}" for k, v in values.items())


async def run_failover(
    durability: AckDurability,
    *,
    conversations: int = 32,
    messages: int = 40,
    kill_after: float = 0.4,
) -> FailoverReport:
    """Kill a master once `kill_after` of the planned activities were acknowledged."""
    report = FailoverReport(durability.value)
    with EmbeddedCluster(masters=3, replicas_per_master=1, appendonly=True) as cluster:
        settings = Settings(
            redis_url=cluster.url,
            key_prefix=f"failover-{uuid.uuid4().hex[:8]}",
            shards=16,
            ack_durability=durability,
            # WAITAOF needs the longer timeout (settings.MIN_TIMEOUT_FOR_WAITAOF).
            redis_timeout_seconds=3.0 if durability is AckDurability.REPLICA_AOF else 1.0,
            drain_timeout_seconds=5,
            allow_private_service_urls=True,
            typing_while_queued_seconds=0,  # replies are counted; a typing is not one
        )
        keys = Keyspace(settings.key_prefix, settings.shards, cluster=True)
        victim = cluster.master_of(keys.stream(0))
        dev = DevConnector(echo_log=False)
        acknowledged: set[str] = set()
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(settings, echo, concurrency=16, handle_signals=False, stop=stop)
        )
        killed = asyncio.Event()
        planned = conversations * messages

        async def channel(http: aiohttp.ClientSession, gateway: str, url: str, c: int) -> None:
            for n in range(messages):
                activity_id = f"c{c}-{n}"
                activity = {
                    "type": "message",
                    "id": activity_id,
                    "text": str(n),
                    "channelId": "test",
                    "serviceUrl": url,
                    "conversation": {"id": f"c{c}"},
                    "from": {"id": f"u{c}"},
                    "recipient": {"id": "bot"},
                }
                started = time.monotonic()
                try:
                    async with http.post(
                        f"{gateway}/api/messages",
                        data=orjson.dumps(activity),
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                report.slowest_answer_s = max(report.slowest_answer_s, time.monotonic() - started)
                report.posted += 1
                if status == 202:
                    acknowledged.add(activity_id)
                    if not killed.is_set():
                        report.acknowledged_before_kill += 1
                else:
                    report.refused += 1
                if not killed.is_set() and len(acknowledged) >= kill_after * planned:
                    killed.set()
                    cluster.kill(victim)
                    kill_time[0] = time.monotonic()
                await asyncio.sleep(0.005)

        kill_time = [0.0]
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            serving(dev.app) as service_url,
            serving(create_app(settings)) as gateway,
            aiohttp.ClientSession(timeout=timeout) as http,
        ):
            await asyncio.gather(
                *(channel(http, gateway, service_url, c) for c in range(conversations))
            )
            await asyncio.to_thread(cluster.wait_healthy, 30.0)
            report.failover_s = round(time.monotonic() - kill_time[0], 2)
            redis = connect(settings)
            try:
                present = await _activity_ids(redis, keys)
            finally:
                await redis.aclose()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                replied = {str(a.get("replyToId")) for a in dev.activities()}
                if present <= replied:
                    break
                await asyncio.sleep(0.2)
            replied = {str(a.get("replyToId")) for a in dev.activities()}
            report.acknowledged = len(acknowledged)
            # Replied to, or still in a stream: not lost (the worker trims what it committed).
            report.lost = sorted(acknowledged - present - replied)
            report.unanswered = sorted(present - replied)
        stop.set()
        await worker
    report.slowest_answer_s = round(report.slowest_answer_s, 2)
    return report


async def _activity_ids(redis: Redis, keys: Keyspace) -> set[str]:
    """Every activity id in every shard stream."""
    ids: set[str] = set()
    for stream in keys.streams():
        entries: Any = await redis.xrange(stream)
        for _, fields in entries:
            activity = Envelope.decode(fields[ENVELOPE_FIELD.encode()]).activity()
            ids.add(str(activity["id"]))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.failover", description=__doc__)
    parser.add_argument("--durability", choices=[d.value for d in AckDurability], default="none")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--conversations", type=int, default=32)
    parser.add_argument("--messages", type=int, default=40)
    args = parser.parse_args()
    for _ in range(args.runs):
        report = asyncio.run(
            run_failover(
                AckDurability(args.durability),
                conversations=args.conversations,
                messages=args.messages,
            )
        )
        print(report.render(), flush=True)


if __name__ == "__main__":
    main()
