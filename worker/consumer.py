"""The consumer loop: read every shard stream through the consumer group, run turns, XACK.

An entry is acknowledged only after its turn succeeded. A turn that fails stays pending in the
group (nothing acknowledged is lost); redelivery, takeover and dead letters build on that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError, ResponseError

from shared.envelope import Envelope, EnvelopeError
from shared.keys import CONSUMER_GROUP, ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace
from shared.redisconn import OutageLog, Redis
from worker import takeover
from worker.acks import Acknowledger
from worker.ordering import OrderGate, Verdict
from worker.scheduler import ConversationScheduler
from worker.types import PendingAck

log = logging.getLogger(__name__)

TurnRunner = Callable[[Envelope, PendingAck], Awaitable[None]]
"""Runs the turn for one envelope; raising means the turn failed and must not be acknowledged.
The turn may acknowledge the entry itself, atomically with its state (`PendingAck.done`)."""


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    entry_id: str
    envelope: Envelope
    previous: str
    """The conversation's previous entry id ('' for the first of a chain)."""
    done_key: str
    """The conversation's commit pointer."""


def consumer_name() -> str:
    """Unique per process: host, pid and a random suffix (pids repeat across pods)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Consumer:
    """One worker process's reader. `run()` until `stop()`; `run(burst=True)` until drained."""

    def __init__(
        self,
        redis: Redis,
        keys: Keyspace,
        run_turn: TurnRunner,
        *,
        concurrency: int,
        name: str | None = None,
        block_ms: int = 1000,
        claim_idle_seconds: float = 5.0,
    ) -> None:
        self._redis = redis
        self._streams = keys.streams()
        self._run_turn = run_turn
        self._block_ms = block_ms
        self._max_pending = 2 * concurrency
        self._scheduler: ConversationScheduler[Entry] = ConversationScheduler(
            concurrency, self._handle, before=self._wait_for_predecessor
        )
        self._keys = keys
        self._gate = OrderGate(redis)
        self._verdicts: dict[str, Verdict] = {}
        self._stopping = asyncio.Event()
        self._outage = OutageLog("Redis (worker)")
        self.name = name or consumer_name()
        self._acks = Acknowledger(redis, CONSUMER_GROUP, self.name, self._outage)
        self._claim_idle_ms = int(claim_idle_seconds * 1000)
        self._held: dict[str, set[str]] = {}
        """Entries this worker holds (queued, waiting or running), by stream: kept alive by
        the heartbeat so that no other worker takes them over."""
        self.turns_done = 0
        self.turns_failed = 0

    def stop(self) -> None:
        """Stop reading; `run` returns once in-flight turns finished."""
        self._stopping.set()

    async def ensure_groups(self) -> None:
        """Create the consumer group on every shard stream if missing (idempotent)."""
        for stream in self._streams:
            try:
                # "0": entries the gateway queued before any worker ever started are not skipped.
                await self._redis.xgroup_create(stream, CONSUMER_GROUP, id="0", mkstream=True)
            except ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise

    async def run(self, *, burst: bool = False, drain_timeout: float = 25.0) -> None:
        """Read and run turns. In burst mode, return once the streams are drained."""
        if not await self._wait_for_groups():
            return
        log.info("worker %s reading %d shard streams", self.name, len(self._streams))
        keep_alive = asyncio.create_task(self._keep_alive())
        take_over = asyncio.create_task(self._take_over())
        try:
            while not self._stopping.is_set():
                room = self._max_pending - self._scheduler.pending
                if room <= 0:
                    await self._scheduler.wait_changed()
                    continue
                entries = await self._read(room, block=not burst)
                if entries is None:
                    continue
                for entry in entries:
                    self._submit(entry)
                if burst and not entries:
                    if not self._scheduler.pending:
                        break
                    await self._scheduler.wait_changed()
        finally:
            take_over.cancel()
            await self._drain(drain_timeout)  # held entries stay renewed while they finish
            keep_alive.cancel()

    def _submit(self, entry: Entry) -> None:
        held = self._held.setdefault(entry.stream, set())
        if entry.entry_id in held:
            return  # taken over from ourselves after a stall: it is already queued here
        held.add(entry.entry_id)
        self._scheduler.submit(entry.envelope.conversation, entry)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._claim_idle_ms / 3000)
            held = {stream: list(ids) for stream, ids in self._held.items() if ids}
            if not held:
                continue
            try:
                await takeover.renew(self._redis, CONSUMER_GROUP, self.name, held)
            except (RedisError, OSError) as e:
                self._outage.failed(e)

    async def _take_over(self) -> None:
        while not self._stopping.is_set():
            await self._pause(min(1.0, self._claim_idle_ms / 5000))
            room = self._max_pending - self._scheduler.pending
            if room <= 0 or self._stopping.is_set():
                continue
            try:
                claimed = await takeover.claim_abandoned(
                    self._redis,
                    self._streams,
                    CONSUMER_GROUP,
                    self.name,
                    self._claim_idle_ms,
                    max(1, room // len(self._streams)),
                )
            except (RedisError, OSError) as e:
                self._outage.failed(e)
                continue
            entries = self._entries(claimed)
            if entries:
                log.warning(
                    "took over %d entries from a worker that stopped renewing them", len(entries)
                )
            for entry in entries:
                self._submit(entry)

    async def _wait_for_groups(self) -> bool:
        """Create the groups, waiting out a Redis that is not there yet. False if stopped first."""
        while not self._stopping.is_set():
            try:
                await self.ensure_groups()
            except (RedisError, OSError) as e:
                self._outage.failed(e)
                await self._pause(self._backoff())
                continue
            self._outage.succeeded()
            return True
        return False

    def _backoff(self) -> float:
        return min(5.0, 0.1 * 2.0 ** min(self._outage.failures, 6))

    async def _read(self, room: int, *, block: bool) -> list[Entry] | None:
        count = max(1, room // len(self._streams))
        try:
            response: Any = await self._redis.xreadgroup(
                CONSUMER_GROUP,
                self.name,
                dict.fromkeys(self._streams, ">"),
                count=count,
                block=self._block_ms if block else None,
            )
        except (RedisError, OSError) as e:
            self._outage.failed(e)
            await self._pause(self._backoff())
            return None
        self._outage.succeeded()
        return self._entries(response)

    def _entries(self, response: Any) -> list[Entry]:
        entries = []
        for stream_name, messages in response or []:
            stream = stream_name.decode() if isinstance(stream_name, bytes) else stream_name
            for raw_id, fields in messages:
                entry_id = raw_id.decode()
                try:
                    envelope = Envelope.decode(fields[ENVELOPE_FIELD.encode()])
                except (EnvelopeError, KeyError) as e:
                    # Left pending, never acknowledged: the entry stays in Redis for inspection.
                    log.error("unreadable entry %s on %s left pending: %s", entry_id, stream, e)
                    continue
                previous = fields.get(PREVIOUS_FIELD.encode(), b"").decode()
                shard = self._keys.shard_of(envelope.conversation)
                done_key = self._keys.done(shard, envelope.conversation)
                entries.append(Entry(stream, entry_id, envelope, previous, done_key))
        return entries

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass

    async def _wait_for_predecessor(self, entry: Entry) -> None:
        self._verdicts[entry.entry_id] = await self._gate.wait(
            entry.done_key, entry.entry_id, entry.previous
        )

    async def _handle(self, entry: Entry) -> None:
        try:
            await self._handle_held(entry)
        finally:
            self._held.get(entry.stream, set()).discard(entry.entry_id)

    async def _handle_held(self, entry: Entry) -> None:
        if self._verdicts.pop(entry.entry_id, Verdict.RUN) is Verdict.COMMITTED:
            log.info("entry %s was already committed; acknowledging it", entry.entry_id)
            await asyncio.shield(self._acks.ack(entry.stream, entry.entry_id, entry.done_key))
            return
        try:
            pending = PendingAck(
                entry.stream, CONSUMER_GROUP, entry.entry_id, entry.done_key, self.name
            )
            await self._run_turn(entry.envelope, pending)
        except Exception:
            self.turns_failed += 1
            log.exception(
                "turn failed; entry %s stays pending",
                entry.entry_id,
                extra={"conversation": entry.envelope.conversation, "entry_id": entry.entry_id},
            )
            return
        if not pending.done:  # a turn that saved state acknowledged with it
            # Shielded: a stop that cancels turns must not cancel an acknowledgement begun.
            await asyncio.shield(self._acks.ack(entry.stream, entry.entry_id, entry.done_key))
        self._gate.committed(entry.done_key, entry.entry_id)
        self.turns_done += 1

    async def _drain(self, within: float) -> None:
        if self._scheduler.pending:
            log.info("draining %d in-flight turns (up to %.0f s)", self._scheduler.pending, within)
        try:
            async with asyncio.timeout(within):
                await self._scheduler.join()
        except TimeoutError:
            log.warning(
                "drain timed out; %d turns left pending for redelivery", self._scheduler.pending
            )
            self._scheduler.cancel()
            await self._scheduler.join()
        await self._forget_self()

    async def _forget_self(self) -> None:
        """Remove this consumer from the group where it holds nothing, so the group stays tidy.

        A consumer that still owns pending entries is kept: deleting it would drop them.
        """
        try:
            for stream in self._streams:
                consumers = await self._redis.xinfo_consumers(stream, CONSUMER_GROUP)
                for consumer in consumers:
                    name = consumer["name"]
                    name = name.decode() if isinstance(name, bytes) else name
                    if name == self.name and consumer["pending"] == 0:
                        await self._redis.xgroup_delconsumer(stream, CONSUMER_GROUP, self.name)
        except (RedisError, OSError) as e:
            log.warning("could not remove consumer %s from the group: %s", self.name, e)
