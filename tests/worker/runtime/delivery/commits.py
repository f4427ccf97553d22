"""Commit objects for entries a test delivered by hand, as a worker would build them."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.entry_commit import EntryCommit, Scripts
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.send_journal import SendJournal


@dataclass(frozen=True)
class Delivered:
    """A stream entry read through the group by `consumer`."""

    stream: str
    entry_id: str
    done_key: str
    sent_key: str
    consumer: str
    starts_key: str


async def deliver(
    redis: Redis, keys: Keyspace, conversation: str, consumer: str = "w1"
) -> Delivered:
    """Append an entry to `conversation`'s shard stream and read it as `consumer`."""
    shard = keys.shard_of(conversation)
    stream = keys.stream(shard)
    with contextlib.suppress(ResponseError):  # BUSYGROUP: made by an earlier call
        await redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
    await redis.xadd(stream, {"e": b"x"})
    answer: Any = await redis.xreadgroup(CONSUMER_GROUP, consumer, {stream: ">"}, count=1)
    entry_id = answer[0][1][0][0].decode()
    return Delivered(
        stream,
        entry_id,
        keys.done(shard, conversation),
        keys.sent(shard, entry_id),
        consumer,
        keys.starts(shard, entry_id),
    )


def commit_for(
    entry: Delivered,
    redis: Redis,
    scripts: RespExecutor,
    *,
    claim_idle_seconds: float = 5.0,
    fenced: list[str] | None = None,
    leases: Leases | None = None,
) -> EntryCommit:
    """The commit object a worker named `entry.consumer` hands the entry's turn; `fenced`
    collects the operations the fence refused (the metric's label)."""
    if leases is None:
        leases = Leases(scripts, CONSUMER_GROUP, entry.consumer, claim_idle_seconds)
    leases.hold((entry.stream, entry.entry_id), time.monotonic())
    refused = fenced if fenced is not None else []
    return EntryCommit(
        stream=entry.stream,
        entry_id=entry.entry_id,
        done_key=entry.done_key,
        sent_key=entry.sent_key,
        starts_key=entry.starts_key,
        try_count=0,
        group=CONSUMER_GROUP,
        consumer=entry.consumer,
        replies=[],
        leases=leases,
        journal=SendJournal(redis, scripts, CONSUMER_GROUP, entry.consumer, OutageLog("test")),
        scripts=Scripts(scripts),
        on_fenced=refused.append,
    )
