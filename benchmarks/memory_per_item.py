"""Redis memory per backlog entry and per conversation, measured with MEMORY USAGE.

Queues `--entries` ~1 KB Teams-like message activities (real envelopes, as the gateway writes
them) over `--conversations` conversations on an embedded server, then reads MEMORY USAGE of
every key turnstream keeps: the shard streams (per queued entry), the dedupe markers (per
activity id, for the dedupe window), the conversation's `last` and `done` pointers, and a small
conversation state item (the counter sample's). INFO's used_memory delta is the cross-check.

    .venv/bin/python -m benchmarks.memory_per_item
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway.enqueue import ENQUEUE_SCRIPT
from shared.protocol.envelope import Envelope
from shared.protocol.keys import Keyspace, conversation_key
from turnstream.embedded import EmbeddedRedis
from worker.bot.redis_storage import RedisStorage


def _activity(conversation: str, n: int) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"1700000000{n:06d}",
        "timestamp": "2026-11-21T10:00:00.000Z",
        "localTimestamp": "2026-11-21T11:00:00.000+01:00",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {"id": "29:1" + "a" * 80, "name": "Ann Example", "aadObjectId": "0" * 36},
        "conversation": {"conversationType": "personal", "tenantId": "1" * 36, "id": conversation},
        "recipient": {"id": "28:" + "b" * 36, "name": "Bot"},
        "textFormat": "plain",
        "locale": "en-US",
        "text": "Hello there, what is the status of my order number 12345? " * 3,
        "entities": [
            {
                "locale": "en-US",
                "country": "US",
                "platform": "Web",
                "timezone": "Europe/Berlin",
                "type": "clientInfo",
            }
        ],
        "channelData": {"tenant": {"id": "1" * 36}},
    }


async def measure(entries: int, conversations: int) -> None:
    with EmbeddedRedis(appendonly=False) as server:
        client = aioredis.Redis.from_url(server.url)
        keys = Keyspace("mem", 16)
        before = int((await client.info("memory"))["used_memory"])
        names = [f"a:1{c:04d}" + "x" * 90 for c in range(conversations)]  # Teams-like length
        size = 0
        for n in range(entries):
            conversation_id = names[n % conversations]
            activity = _activity(conversation_id, n)
            conversation = conversation_key("msteams", conversation_id)
            body = orjson.dumps(activity)
            size += len(body)
            envelope = Envelope(body, conversation, time.time()).encode()
            shard = keys.shard_of(conversation)
            await client.eval(
                ENQUEUE_SCRIPT,
                3,
                keys.stream(shard),
                keys.seen(shard, conversation, activity["id"]),
                keys.last(shard, conversation),
                envelope,
                600,
                "1",
            )
        after = int((await client.info("memory"))["used_memory"])
        streams = sum([int(await client.memory_usage(s) or 0) for s in keys.streams()])
        seen = last = 0
        for n in range(conversations):
            conversation = conversation_key("msteams", names[n])
            shard = keys.shard_of(conversation)
            last += int(await client.memory_usage(keys.last(shard, conversation)) or 0)
            seen += int(
                await client.memory_usage(keys.seen(shard, conversation, f"1700000000{n:06d}")) or 0
            )
            await client.set(keys.done(shard, conversation), "1700000000000-0")
        done = int(
            await client.memory_usage(keys.done(keys.shard_of(conversation), conversation)) or 0
        )
        storage = RedisStorage(client, key_prefix="mem")
        state_key = f"msteams/conversations/{names[0]}"
        await storage.write({state_key: {"count": {"value": 41}}})
        state = int(await client.memory_usage(keys.state(state_key)) or 0)
        await client.aclose()
    print(
        f"{entries} entries of {size / entries:,.0f} B of activity JSON each, "
        f"{conversations} conversations, 16 shards"
    )
    print(f"per queued entry (stream):       {streams / entries:,.0f} B")
    print(f"per activity id (dedupe marker): {seen / conversations:,.0f} B for the dedupe window")
    print(
        f"per conversation: last {last / conversations:,.0f} B + done {done:,} B pointers, "
        f"counter state {state:,} B"
    )
    print(
        f"used_memory delta per entry (entry + marker, pointers amortised): "
        f"{(after - before) / entries:,.0f} B"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_per_item")
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(measure(args.entries, args.conversations))


if __name__ == "__main__":
    main()
