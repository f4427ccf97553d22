"""Enqueue throughput on one Redis vs a Redis Cluster, and what acknowledged-means-durable costs.

Drives the gateway's own enqueue path (`gateway.enqueue.Enqueuer` on the pool `REDIS_URL` would
give it: `RespPool`, or `ClusterRespPool` routed by slot, with WAIT/WAITAOF per batch for
`TURNSTREAM_ACK_DURABILITY`) with many concurrent callers, each enqueueing ~1 KB envelopes of
its own conversations, spread over 16 shards. No HTTP: the gateway's HTTP side is measured by
`benchmarks.gateway_ack`; this isolates what changes with the Redis topology. Every case runs
against its own servers, all started up front, and the cases are interleaved `--repeat` times,
so the ratios come from one run on the same machine state.

    .venv/bin/python -m benchmarks.cluster_enqueue --seconds 3 --repeat 3

Cases: `single` (one server, no replica: today's default), `cluster-1` (a cluster of 1 master
with 1 replica), `cluster-3` (3 masters with 1 replica each), `cluster-3-wait` (WAIT 1: a
replica has it in memory), `cluster-3-waitaof` (WAITAOF 0 1: a replica fsynced it; AOF
`appendfsync everysec` on every node, so a replica fsyncs about once a second),
`cluster-3-always` and `cluster-3-always-waitaof` (the same on nodes with `appendfsync always`).
Reported: acknowledged enqueues per second, p50/p99
latency of one enqueue, and the client's CPU per enqueue; ratios against `cluster-1`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.harness import machine_line
from gateway.enqueue import Enqueuer
from gateway.enqueue_pool import EnqueuePool, open_enqueue_pool
from shared.protocol.keys import Keyspace, conversation_key
from shared.settings import AckDurability, Settings
from turnstream.embedded import EmbeddedRedis
from turnstream.embedded_cluster import EmbeddedCluster

ENVELOPE = b"x" * 1024
"""Stands in for a msgpacked ~1 KB activity: the server's work does not look inside it."""


@dataclass
class Case:
    name: str
    url: str
    durability: AckDurability = AckDurability.NONE


@dataclass
class Result:
    rates: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    refused: int = 0


async def _measure(case: Case, seconds: float, callers: int, result: Result) -> None:
    settings = Settings(
        redis_url=case.url,
        key_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        shards=16,
        ack_durability=case.durability,
        redis_timeout_seconds=3.0,  # WAITAOF needs ~1 s (settings.MIN_TIMEOUT_FOR_WAITAOF)
        redis_max_connections=64,
    )
    keys = Keyspace(settings.key_prefix, settings.shards)
    pool: EnqueuePool = open_enqueue_pool(settings)
    enqueuer = Enqueuer(pool, dedupe_window_seconds=600, timeout_seconds=3.0)
    latencies: list[float] = []
    done = 0
    stop_at = 0.0

    async def caller(index: int) -> None:
        nonlocal done
        n = 0
        while time.monotonic() < stop_at:
            conversation = conversation_key("bench", f"c{index}-{n % 8}")
            shard = keys.shard_of(conversation)
            started = time.perf_counter()
            try:
                await enqueuer.enqueue(
                    keys.stream(shard),
                    keys.seen(shard, conversation, f"a{index}-{n}"),
                    keys.last(shard, conversation),
                    ENVELOPE,
                    dedupe=True,
                )
            except Exception:
                result.refused += 1
                continue
            latencies.append(time.perf_counter() - started)
            done += 1
            n += 1

    # Warm up: connections opened, script loaded, slot map read.
    stop_at = time.monotonic() + 0.3
    await asyncio.gather(*(caller(i) for i in range(callers)))
    latencies.clear()
    done = 0
    cpu = time.process_time()
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(*(caller(i) for i in range(callers)))
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu
    await enqueuer.aclose()
    await pool.aclose()
    latencies.sort()
    result.rates.append(done / elapsed)
    result.p50_ms.append(1000 * latencies[len(latencies) // 2])
    result.p99_ms.append(1000 * latencies[int(len(latencies) * 0.99)])
    result.cpu_us.append(1e6 * cpu / max(done, 1))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster_enqueue")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--callers", type=int, default=256)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    single = EmbeddedRedis(appendonly=True).start()  # AOF everysec, like the cluster nodes
    one = EmbeddedCluster(masters=1, replicas_per_master=1).start()
    three = EmbeddedCluster(masters=3, replicas_per_master=1).start()
    fsynced = EmbeddedCluster(masters=3, replicas_per_master=1, appendfsync="always").start()
    try:
        cases = [
            Case("single", single.url),
            Case("cluster-1", one.url),
            Case("cluster-3", three.url),
            Case("cluster-3-wait", three.url, AckDurability.REPLICA),
            Case("cluster-3-waitaof", three.url, AckDurability.REPLICA_AOF),
            Case("cluster-3-always", fsynced.url),
            Case("cluster-3-always-waitaof", fsynced.url, AckDurability.REPLICA_AOF),
        ]
        results = {case.name: Result() for case in cases}
        for _ in range(args.repeat):
            for case in cases:
                asyncio.run(_measure(case, args.seconds, args.callers, results[case.name]))
        _report(cases, results)
    finally:
        fsynced.stop()
        three.stop()
        one.stop()
        single.stop()


def _report(cases: list[Case], results: dict[str, Result]) -> None:
    median: Callable[[list[float]], float] = statistics.median
    base = median(results["cluster-1"].rates)
    print(
        f"{'case':<24} {'enqueues/s':>10} {'vs cluster-1':>12} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'client CPU/enqueue':>18} {'refused':>7}"
    )
    for case in cases:
        r = results[case.name]
        rate = median(r.rates)
        print(
            f"{case.name:<24} {rate:>10,.0f} {rate / base:>11.2f}x {median(r.p50_ms):>7.2f} "
            f"{median(r.p99_ms):>7.2f} {median(r.cpu_us):>15.1f} µs {r.refused:>7}"
        )


if __name__ == "__main__":
    main()
