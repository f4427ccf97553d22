"""Effectively-once replies across deliveries: what a turn sent is recorded per stream entry.

A worker that dies after posting a reply but before committing its turn leaves the entry
pending; the worker that takes it over runs the turn again. Without a record, the user would get
the reply twice. So every reply that went out is recorded under the entry (`Keyspace.sent`) right
after the connector's 2xx, and a later delivery of the entry loads the record first: its n-th
send returns the n-th recorded resource id instead of posting again. The commit that acknowledges
the entry deletes the record.

The record only matters if the turn does not commit, so it is not awaited by the turn and waits
RECORD_DELAY_SECONDS before it is sent: most turns commit sooner (the commit drops the record
unsent, and deletes one already written), so a typical turn costs nothing extra, while a long
turn's replies are recorded within milliseconds. Records due together go out in one pipelined
round trip.

The residual window is the time between the connector's 2xx and the record reaching Redis (the
delay plus a round trip): a worker killed inside it, before its turn committed, still
duplicates that reply when the entry is taken over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import msgpack

from shared.backoff import exponential
from shared.protocol.keys import SENT_TTL_SECONDS
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor
from shared.schema.activity import ResourceResponse
from worker.runtime.delivery.fence import CURRENT, OWNS
from worker.runtime.delivery.scripts import REDIS_FAILURES, Script

log = logging.getLogger(__name__)

_ATTEMPTS = 3

RECORD_DELAY_SECONDS = 0.002
"""How long a record waits for the turn to commit before it is written (the residual window)."""

RECORD_SCRIPT = f"""{OWNS}{CURRENT}
if not owns(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) or not current(KEYS[3], ARGV[5]) then
  return -1
end
redis.call('SET', KEYS[2], ARGV[4], 'EX', {SENT_TTL_SECONDS})
return 0
"""
"""KEYS: the shard stream, the entry's record, its count of tries (one slot). ARGV: group,
entry id, this consumer, the msgpack list of resource ids, the count the try began with.
Fenced like a commit: a worker that lost the entry to another cannot overwrite the new owner's
record, nor an earlier try's late record the longer one of the try after it."""
_RECORD = Script(RECORD_SCRIPT)

_Record = tuple[str, str, str, bytes, str, int]
"""stream, record key, entry id, packed ids, count-of-tries key, the try's count."""


def pack(replies: Sequence[ResourceResponse]) -> bytes:
    """The record's value: the resource ids in send order ('' where the channel gave none)."""
    return msgpack.packb([reply.id or "" for reply in replies])


def unpack(data: bytes | None) -> list[ResourceResponse]:
    if not data:
        return []
    ids: Any = msgpack.unpackb(data)
    return [ResourceResponse(id=str(reply_id) or None) for reply_id in ids]


class SendJournal:
    """`record(...)` after each reply (not awaited), `forget(key)` once the entry committed;
    `await load(key)` before a redelivery."""

    def __init__(
        self, redis: Redis, scripts: RespExecutor, group: str, consumer: str, outage: OutageLog
    ) -> None:
        self._redis = redis
        self._scripts = scripts
        self._group = group
        self._consumer = consumer
        self._outage = outage
        self._batch: dict[str, _Record] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self.unrecorded = 0
        """Records given up on (Redis unreachable): replies a takeover would send again."""

    def record(
        self,
        stream: str,
        key: str,
        entry_id: str,
        replies: Sequence[ResourceResponse],
        *,
        starts_key: str,
        try_count: int,
    ) -> None:
        """Record every reply sent so far for the entry (the whole list: writes are idempotent
        and the latest one wins), by the try that began at `try_count`
        (worker.runtime.delivery.attempts)."""
        if not self._batch:
            asyncio.get_running_loop().call_later(RECORD_DELAY_SECONDS, self._flush)
        self._batch[key] = (stream, key, entry_id, pack(replies), starts_key, try_count)

    def forget(self, key: str) -> None:
        """The entry committed: its record is not needed (if already sent, the commit deleted
        it; if in flight, the fence refuses it because the entry is no longer pending)."""
        self._batch.pop(key, None)

    async def load(self, key: str) -> list[ResourceResponse]:
        """The replies recorded for an entry by earlier deliveries (raises on Redis errors: a
        turn must not run again without knowing what it already sent)."""
        data: Any = await self._redis.get(key)
        return unpack(data)

    async def flush(self) -> None:
        """Wait for records already handed over (a draining worker calls this before exiting)."""
        if self._batch:
            self._flush()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = list(self._batch.values()), {}
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, batch: list[_Record]) -> None:
        calls = [
            ((stream, key, starts_key), (self._group, entry_id, self._consumer, packed, count))
            for stream, key, entry_id, packed, starts_key, count in batch
        ]
        for attempt in range(_ATTEMPTS):
            try:
                results = await _RECORD.run(self._scripts, calls)
            except REDIS_FAILURES as e:
                self._outage.failed(e)
                await asyncio.sleep(exponential(attempt, first=0.05, cap=0.2))
                continue
            errors = [r for r in results if isinstance(r, Exception)]
            if errors:
                log.warning("could not record sent replies: %s", errors[0])
                self.unrecorded += len(errors)
            return
        self.unrecorded += len(batch)
        log.error("could not record %d entries' sent replies (Redis unreachable)", len(batch))
