"""Scheduled turns: what 100,000 of them cost in Redis memory and CPU, and how late due turns
start under load.

Part 1 schedules `--turns` Teams-like reminders (an event with a small value, half of them with
a key) over as many conversations on an embedded server, then reads MEMORY USAGE of the
shards' due sets, records and key hashes (INFO used_memory is the cross-check), the server's
CPU to schedule them and to move them all into the streams once due, the server's CPU of one
idle look (the earliest due time of 16 shards: what each watcher does every 0.25 s), and the
time to list one conversation's turns (a scan of its shard's records).

Part 2 runs one worker (in this process) with a bot that records when each scheduled event's
turn starts, schedules `--load` turns due evenly over `--window` seconds starting two seconds
from now, and reports the lateness of their queueing (due time to XADD) and of their turn's
start (due time to the bot's handler), p50/p99/max, with the worker's CPU utilisation.

    .venv/bin/python -m benchmarks.scheduled_turns
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from typing import Any

import redis.asyncio as aioredis

from shared.protocol.keys import Keyspace
from shared.protocol.schedule import Schedule
from shared.redis.connection import connect
from shared.settings import Settings
from turnstream.embedded import EmbeddedRedis
from worker.bot.activity_handler import ActivityHandler
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker

SHARDS = 16


def _reference(conversation_id: str) -> dict[str, Any]:
    return {
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "conversation": {
            "conversationType": "personal",
            "tenantId": "1" * 36,
            "id": conversation_id,
        },
        "user": {"id": "29:1" + "a" * 80, "name": "Ann Example", "aadObjectId": "0" * 36},
        "bot": {"id": "28:" + "b" * 36, "name": "Bot"},
        "locale": "en-US",
    }


async def _server_cpu(client: aioredis.Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def memory_and_cpu(url: str, turns: int) -> None:
    client = aioredis.Redis.from_url(url)
    keys = Keyspace(f"sched-{uuid.uuid4().hex[:6]}", SHARDS)
    schedule = Schedule(client, keys)
    before = int((await client.info("memory"))["used_memory"])
    cpu = await _server_cpu(client)
    started = time.perf_counter()
    now = time.time()
    for start in range(0, turns, 500):
        async with client.pipeline(transaction=False) as pipe:
            for n in range(start, min(turns, start + 500)):
                conversation = f"a:1{n:06d}" + "x" * 90  # Teams-like length
                _, script_keys, args = schedule.schedule_call(
                    _reference(conversation),
                    now + 3600 + n,
                    event="reminder",
                    value={"text": "stretch your legs", "due": now + 3600 + n},
                    key="stretch" if n % 2 else None,
                )
                pipe.eval(schedule.schedule_script, len(script_keys), *script_keys, *args)
            await pipe.execute()
    schedule_seconds = time.perf_counter() - started
    schedule_cpu = await _server_cpu(client) - cpu
    after = int((await client.info("memory"))["used_memory"])
    due = sum([int(await client.memory_usage(keys.due(s)) or 0) for s in range(SHARDS)])
    records = sum([int(await client.memory_usage(keys.scheduled(s)) or 0) for s in range(SHARDS)])
    named = sum([int(await client.memory_usage(keys.schedule_keys(s)) or 0) for s in range(SHARDS)])

    started = time.perf_counter()
    listed = await schedule.waiting(conversation=f"msteams/a:1{7:06d}" + "x" * 90)
    list_seconds = time.perf_counter() - started
    assert len(listed) == 1

    cpu = await _server_cpu(client)
    looks = 2000
    for _ in range(looks):
        await schedule.fire_due(range(SHARDS), now)  # nothing due: the idle look
    look_cpu = (await _server_cpu(client) - cpu) / looks

    cpu = await _server_cpu(client)
    started = time.perf_counter()
    fired = await schedule.fire_due(range(SHARDS), now + 3600 + turns)
    fire_seconds = time.perf_counter() - started
    fire_cpu = await _server_cpu(client) - cpu
    await client.aclose()
    assert len(fired.lateness) == turns, len(fired.lateness)

    print(f"{turns:,} scheduled turns over {turns:,} conversations, {SHARDS} shards")
    print(
        f"memory: due sets {due / turns:,.0f} B + records {records / turns:,.0f} B + "
        f"keys {named / (turns // 2):,.0f} B per keyed turn = "
        f"{(due + records + named) / 2**20:,.1f} MiB in all "
        f"(used_memory delta {(after - before) / 2**20:,.1f} MiB)"
    )
    print(
        f"schedule: {turns / schedule_seconds:,.0f} turns/s from one client, server CPU "
        f"{schedule_cpu / turns * 1e6:,.1f} us per turn"
    )
    print(
        f"fire all when due: {turns / fire_seconds:,.0f} turns/s from one watcher, server CPU "
        f"{fire_cpu / turns * 1e6:,.1f} us per turn (XADD included)"
    )
    print(f"idle look at {SHARDS} shards: server CPU {look_cpu * 1e6:,.1f} us")
    print(
        f"one conversation's turns (its shard's {turns // SHARDS:,} records scanned): "
        f"{list_seconds * 1000:,.0f} ms"
    )


class Recorder(ActivityHandler):
    def __init__(self, expected: int) -> None:
        self.started: list[float] = []
        self.all_ran = asyncio.Event()
        self._expected = expected

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        self.started.append(time.time() - turn_context.activity.value["due"])
        if len(self.started) >= self._expected:
            self.all_ran.set()


async def lateness_under_load(url: str, load: int, window: float) -> None:
    settings = Settings(
        redis_url=url,
        key_prefix=f"late-{uuid.uuid4().hex[:6]}",
        shards=SHARDS,
        allow_private_service_urls=True,
        typing_while_queued_seconds=0,
    )
    keys = Keyspace(settings.key_prefix, settings.shards)
    redis = connect(settings)
    schedule = Schedule(redis, keys)
    bot = Recorder(load)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, bot, handle_signals=False, stop=stop))
    first = time.time() + 2
    for n in range(load):
        due = first + window * n / load
        await schedule.schedule(
            _reference(f"c-{n % 1000}"), due, event="reminder", value={"due": due}
        )
    cpu = time.process_time()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(window + 60):
            await bot.all_ran.wait()
    except TimeoutError:
        pass  # reported: how many ran
    utilisation = (time.process_time() - cpu) / (time.perf_counter() - started)
    stop.set()
    consumer = await worker
    await redis.aclose()
    registry = consumer.observer.metrics.registry
    fired = registry.get_sample_value("turnstream_scheduled_turns_fired_total") or 0
    late = registry.get_sample_value("turnstream_scheduled_turns_late_total") or 0
    queued = _lateness_quantiles(registry)
    starts = sorted(bot.started)
    print(
        f"{load:,} turns due over {window:g} s ({load / window:,.0f}/s), one worker "
        f"(CPU {utilisation:.0%} of a core; this process is also the scheduler)"
    )
    print(f"queued (due -> XADD): {queued}; fired {fired:,.0f}, late (>1 s) {late:,.0f}")
    print(
        f"turn start (due -> handler): p50 {_q(starts, 0.5):.3f} s, p99 {_q(starts, 0.99):.3f} s, "
        f"max {starts[-1]:.3f} s, {len(starts):,} of {load:,} ran"
    )


def _q(values: list[float], quantile: float) -> float:
    return values[min(len(values) - 1, int(quantile * len(values)))]


def _lateness_quantiles(registry: Any) -> str:
    """Bucket counts of the lateness histogram, as 'share within each bound'."""
    total = registry.get_sample_value("turnstream_scheduled_turn_lateness_seconds_count") or 0
    shown = []
    for bound in ("0.1", "0.25", "0.5", "1.0"):
        within = registry.get_sample_value(
            "turnstream_scheduled_turn_lateness_seconds_bucket", {"le": bound}
        )
        shown.append(f"<= {bound} s: {(within or 0) / max(total, 1):.1%}")
    return ", ".join(shown)


async def run(turns: int, load: int, window: float) -> None:
    with EmbeddedRedis(appendonly=False) as server:
        await memory_and_cpu(server.url, turns)
        if load:
            await lateness_under_load(server.url, load, window)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scheduled_turns")
    parser.add_argument("--turns", type=int, default=100_000, help="for memory and CPU")
    parser.add_argument("--load", type=int, default=3000, help="turns due in the window")
    parser.add_argument("--window", type=float, default=10.0, help="seconds")
    args = parser.parse_args()
    os.environ.setdefault("TURNSTREAM_LOG_LEVEL", "WARNING")
    asyncio.run(run(args.turns, args.load, args.window))


if __name__ == "__main__":
    main()
