"""What the conversation registry costs a worker per turn: the check of an activity already
recorded (every turn of a known conversation: CPU only, no Redis command), and a recording
(a new conversation or user, or once an hour: one pipelined round trip).

    .venv/bin/python -m benchmarks.registry_cost
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from shared.protocol.keys import Keyspace
from shared.protocol.registry import ConversationRegistry
from turnstream.embedded import EmbeddedRedis
from worker.runtime.conversation_registry import RegistryRecorder


def _activity(n: int) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"1700000000{n:06d}",
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": "29:1" + "a" * 80, "name": "Ann Example", "aadObjectId": "0" * 36},
        "conversation": {"conversationType": "personal", "tenantId": "1" * 36, "id": f"a:{n}"},
        "recipient": {"id": "28:" + "b" * 36, "name": "Bot"},
        "locale": "en-US",
        "text": "hello",
        "channelData": {"tenant": {"id": "1" * 36}},
    }


async def run(rounds: int) -> None:
    with EmbeddedRedis(appendonly=False) as server:
        client = aioredis.Redis.from_url(server.url)
        recorder = RegistryRecorder(ConversationRegistry(client, Keyspace("reg", 16), 86400))
        activities = [_activity(n) for n in range(rounds)]
        started, cpu = time.perf_counter(), time.process_time()
        for activity in activities:
            await recorder.saw(activity)  # new conversations: each recorded
        recorded = (time.perf_counter() - started) / rounds, (time.process_time() - cpu) / rounds
        started, cpu = time.perf_counter(), time.process_time()
        for activity in activities:
            await recorder.saw(activity)  # known: checked in memory only
        checked = (time.process_time() - cpu) / rounds
        await client.aclose()
    print(f"{rounds:,} conversations, Teams-like activities")
    print(f"known conversation (every turn): {checked * 1e6:,.1f} us CPU, no Redis command")
    print(
        f"recording (new, changed, or hourly): {recorded[0] * 1e6:,.0f} us wall, "
        f"{recorded[1] * 1e6:,.0f} us CPU (one pipelined round trip, sequential)"
    )


if __name__ == "__main__":
    asyncio.run(run(20_000))
