"""The consumer loop: read every shard stream through the consumer group, run turns, XACK.

An entry is acknowledged only after its turn succeeded. A turn that fails stays pending in the
group (nothing acknowledged is lost); redelivery, takeover and dead letters build on that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError, ResponseError

from shared.envelope import Envelope, EnvelopeError
from shared.keys import CONSUMER_GROUP, ENVELOPE_FIELD, PREVIOUS_FIELD, Keyspace
from shared.redisconn import OutageLog, Redis, is_cluster
from shared.resp_pools import RespExecutor
from shared.signing import EnvelopeSigner
from worker.bot.errors import TakenOver
from worker.runtime.delivery import dead_letters, takeover, trimming
from worker.runtime.delivery.acks import Acknowledger
from worker.runtime.delivery.affinity import ShardAffinity
from worker.runtime.delivery.attempts import Tries
from worker.runtime.delivery.entry_commit import EntryCommit, Scripts
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.ordering import OrderGate, Verdict, entry_order
from worker.runtime.delivery.scripts import REDIS_FAILURES
from worker.runtime.delivery.send_journal import SendJournal
from worker.runtime.delivery.shard_reads import PerShardReader
from worker.runtime.local_callbacks import PICK_UP_SECONDS, LocalCallbacks
from worker.runtime.metrics import Outcome, WorkerMetrics
from worker.runtime.queued_typing import QueuedTyping
from worker.runtime.scheduler import ConversationScheduler
from worker.runtime.turn_observer import TurnObserver

log = logging.getLogger(__name__)

TRIM_INTERVAL_SECONDS = 30.0

TurnRunner = Callable[[Envelope, EntryCommit], Awaitable[None]]
"""Runs the turn for one envelope, its writes fenced by the commit object (the turn's
`TurnContext.turn_commit`); raising means the turn failed and must not be acknowledged. The
turn may commit the entry itself, atomically with its state (`EntryCommit.committed`)."""


@dataclass(frozen=True, slots=True)
class Entry:
    stream: str
    entry_id: str
    envelope: Envelope
    previous: str
    """The conversation's previous entry id ('' for the first of a chain)."""
    done_key: str
    """The conversation's commit pointer."""
    sent_key: str
    """The record of replies sent while processing this entry
    (worker.runtime.delivery.send_journal)."""
    starts_key: str
    """The count of this entry's tries past its first (worker.runtime.delivery.attempts)."""
    read_at: float
    """When the read or claim that delivered it here was sent (time.monotonic()): its lease
    starts no later (worker.runtime.delivery.leases)."""

    @property
    def key(self) -> tuple[str, str]:
        """Unique across shards (each stream numbers its entries on its own)."""
        return self.stream, self.entry_id


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
        scripts: RespExecutor,
        concurrency: int,
        name: str | None = None,
        block_ms: int = 1000,
        claim_idle_seconds: float = 5.0,
        max_deliveries: int = 5,
        signer: EnvelopeSigner | None = None,
        typing: QueuedTyping | None = None,
        observer: TurnObserver | None = None,
        local: LocalCallbacks | None = None,
    ) -> None:
        self._redis = redis
        self._local = local
        """Proactive callbacks kept in this process's memory; entries naming another worker's
        are handed to it (worker.runtime.local_callbacks)."""
        self._scripts = scripts
        """Where the per-turn scripts go (commits, sent-reply records, renewals, dead letters):
        plain RESP connections, cheaper per call than redis-py."""
        self._typing = typing
        """Shows typing for entries held here whose turn has not started after a while."""
        self._signer = signer
        """With a signer, an entry no gateway signed is unreadable: dead-lettered, never run."""
        self._streams = keys.streams()
        self._per_shard = PerShardReader(redis, self._streams) if is_cluster(redis) else None
        """On a cluster the shards live in different slots: no single XREADGROUP reads them."""
        self._run_turn = run_turn
        self._block_ms = block_ms
        self._max_pending = 2 * concurrency
        self._scheduler: ConversationScheduler[Entry] = ConversationScheduler(
            concurrency,
            self._handle,
            before=self._wait_for_predecessor,
            order=lambda entry: entry_order(entry.entry_id),
            ready=lambda entry: self._gate.known_ready(entry.done_key, entry.previous),
        )
        self._keys = keys
        self._gate = OrderGate(redis)
        self._verdicts: dict[tuple[str, str], Verdict] = {}
        self._stopping = asyncio.Event()
        self._outage = OutageLog("Redis (worker)")
        self.name = name or consumer_name()
        self._affinity = ShardAffinity(scripts, keys.readers(), self.name, self._streams)
        self._helping = False
        """True while this worker's own shards are empty and the others' are not."""
        self.observer = observer or TurnObserver(WorkerMetrics(), self.name)
        """Log fields, trace span, time and outcome of every delivery (metrics: no Redis)."""
        self._acks = Acknowledger(
            scripts,
            CONSUMER_GROUP,
            self.name,
            self._outage,
            on_taken_over=self.observer.metrics.lease_conflicts.inc,
        )
        self.journal = SendJournal(redis, scripts, CONSUMER_GROUP, self.name, self._outage)
        self._claim_idle_ms = int(claim_idle_seconds * 1000)
        self._claim_cursors: dict[str, str] = {}
        """Where each stream's scan for abandoned entries resumes (takeover.claim_abandoned)."""
        self._max_deliveries = max_deliveries
        """The most tries of a turn (worker.runtime.delivery.attempts) before its entry is
        dead-lettered."""
        self._unreadable: list[tuple[str, str, str]] = []
        self._tries = Tries(redis)
        self._waiting: dict[tuple[str, str], tuple[Entry, float]] = {}
        """Entries at the head of their conversation here that wait in the order gate for their
        predecessor, with when they began to wait (see `_blocked_predecessors`)."""
        self._leases = Leases(scripts, CONSUMER_GROUP, self.name, claim_idle_seconds)
        """Entries this worker holds (queued, waiting or running): kept alive by the heartbeat
        so that no other worker takes them over, and checked before acting on one whose lease
        may have lapsed."""
        self._fenced_scripts = Scripts()
        self.turns_done = 0
        self.turns_failed = 0

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called (draining)."""
        return self._stopping.is_set()

    @property
    def held(self) -> int:
        """Entries this worker holds: queued, waiting for their predecessor, or running."""
        return len(self._leases)

    @property
    def own_streams(self) -> list[str]:
        """The shard streams this worker reads first (worker.runtime.delivery.affinity): all of
        them while it is the only live worker."""
        return self._affinity.preferred

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
        # The background loops live in one TaskGroup with the reading: a loop that dies on an
        # unexpected error ends the worker loudly (the error propagates, the process exits and
        # its liveness probe fails) instead of leaving it half alive, its renewals stopped.
        async with asyncio.TaskGroup() as loops:
            keep_alive = loops.create_task(self._keep_alive())
            take_over = loops.create_task(self._take_over())
            trim = loops.create_task(self._trim())
            await self._affinity.join()  # its share before its first read
            affinity = loops.create_task(self._affinity.run())
            pick_up = loops.create_task(self._pick_up_local()) if self._local else None
            try:
                await self._read_until_stopped(burst)
            finally:
                take_over.cancel()
                trim.cancel()
                affinity.cancel()
                await self._affinity.leave()
                await self._drain(drain_timeout)  # held entries stay renewed while they finish
                keep_alive.cancel()
                if pick_up is not None and self._local is not None:
                    pick_up.cancel()
                    await self._local.close()

    async def _read_until_stopped(self, burst: bool) -> None:
        while not self._stopping.is_set():
            room = self._max_pending - self._scheduler.pending
            if room <= 0:
                await self._scheduler.wait_changed()
                continue
            entries = await self._read(room, block=not burst)
            await self._dead_letter_unreadable()
            if entries is None:
                continue
            for entry in entries:
                self._submit(entry)
            if burst and not entries:
                if not self._scheduler.pending:
                    break
                await self._scheduler.wait_changed()

    def _submit(self, entry: Entry, *, taken_over: bool = False) -> None:
        if entry.key in self._leases:
            return  # taken over from ourselves after a stall: it is already queued here
        self._leases.hold(entry.key, entry.read_at)
        if taken_over:
            self._tries.taken_over(entry.key)
        if self._typing is not None:
            self._typing.queued(entry.key, entry.envelope)
        self._scheduler.submit(entry.envelope.conversation, entry)

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._leases.renew_every)
            try:
                await self._leases.renew_all()
            except REDIS_FAILURES as e:
                self._outage.failed(e)

    async def _pick_up_local(self) -> None:
        """Run the turns of callbacks kept here that other workers handed over."""
        assert self._local is not None
        while True:
            await self._local.kept()  # no wake-ups while no callback is kept here
            await asyncio.sleep(PICK_UP_SECONDS)
            sent_at = time.monotonic()
            try:
                found = await self._local.pick_up(self._leases.__contains__)
            except REDIS_FAILURES as e:
                self._outage.failed(e)
                continue
            for entry in self._entries(found, sent_at):
                self._submit(entry)

    def _local_finished(self, key: tuple[str, str]) -> None:
        if self._local is not None:
            self._local.finished(key)

    async def _pass_on(self, entry: Entry, holder: str) -> float | None:
        """An entry whose callback another worker keeps: hand it over to that worker, or
        dead-letter it if that worker is gone (its callback with it)."""
        assert self._local is not None
        try:
            if holder != self.name and await self._local.alive(holder):
                if await self._local.hand_over(entry.stream, entry.entry_id, holder):
                    log.debug("entry %s handed over to %s", entry.entry_id, holder)
                    self.observer.ended(Outcome.HANDED_OVER)
                else:
                    self._fenced_off(entry, None)
                return None
        except REDIS_FAILURES as e:
            self._outage.failed(e)
            return self._backoff()
        await self._dead_letter(
            entry.stream,
            entry.entry_id,
            entry.done_key,
            f"proactive callback kept in the memory of worker {holder}, which stopped before "
            "running it (a lambda or closure cannot run in another process)"
            if holder != self.name
            else "proactive callback not held by this worker any more (the call that queued "
            "its turn failed after queuing it)",
        )
        return None

    async def _take_over(self) -> None:
        while not self._stopping.is_set():
            await self._pause(min(1.0, self._claim_idle_ms / 5000))
            if self._stopping.is_set():
                continue
            if time.monotonic() - self._outage.last_failure_at < self._claim_idle_ms / 1000:
                # Redis was away: every worker's entries look idle now, live ones included.
                # Claim only after the live workers had a full claim timeout to renew theirs.
                continue
            sent_at = time.monotonic()
            try:
                claimed = await self._claim()
            except REDIS_FAILURES as e:
                self._outage.failed(e)
                continue
            entries = self._entries(claimed, sent_at)
            await self._dead_letter_unreadable()
            if entries:
                self.observer.metrics.takeovers.inc(len(entries))
                log.warning(
                    "took over %d entries from a worker that stopped renewing them", len(entries)
                )
            for entry in entries:
                self._submit(entry, taken_over=True)

    async def _claim(self) -> list[tuple[str, list[Any]]]:
        """Abandoned entries: first those that entries held here wait for, by id, then the
        next ones of each stream's scan. Not bounded by the room left here: they hold up
        everything behind them."""
        claimed = []
        blocked = self._blocked_predecessors()
        if blocked:
            claimed = await takeover.claim_predecessors(
                self._scripts,
                CONSUMER_GROUP,
                self.name,
                self._claim_idle_ms,
                blocked,
                self._max_pending,
            )
        # As many as an idle worker would read, however full this one is: abandoned entries
        # are the oldest of their conversations, and everything behind them waits. Beyond
        # `max_pending`, a worker holds at most what dead workers held.
        return claimed + await takeover.claim_abandoned(
            self._redis,
            self._streams,
            CONSUMER_GROUP,
            self.name,
            self._claim_idle_ms,
            max(1, self._max_pending // len(self._streams)),
            self._claim_cursors,
        )

    def _blocked_predecessors(self) -> list[tuple[str, str]]:
        """(stream, id) of the predecessors that entries here have waited for half a claim
        timeout: long enough that their worker may have died, so worth trying to claim (the
        claim takes them only if nobody renewed them for a whole claim timeout)."""
        since = time.monotonic() - self._claim_idle_ms / 2000
        return [
            (entry.stream, entry.previous)
            for entry, waiting_since in self._waiting.values()
            if waiting_since <= since
        ]

    async def _trim(self) -> None:
        """Keep the streams bounded: drop what the group has read and committed."""
        while not self._stopping.is_set():
            await self._pause(TRIM_INTERVAL_SECONDS)
            try:
                removed = await trimming.trim_acknowledged(
                    self._redis, self._streams, CONSUMER_GROUP
                )
            except (RedisError, OSError) as e:
                self._outage.failed(e)
                continue
            if removed:
                log.debug("trimmed %d acknowledged entries", removed)

    async def _dead_letter_unreadable(self) -> None:
        unreadable, self._unreadable = self._unreadable, []
        for stream, entry_id, reason in unreadable:
            # Its conversation is unknown: the pointer moved is a shard-wide placeholder.
            shard = self._streams.index(stream)
            await self._dead_letter(stream, entry_id, self._keys.done(shard, "-"), reason)

    async def _dead_letter(self, stream: str, entry_id: str, done_key: str, reason: str) -> None:
        try:
            await dead_letters.dead_letter(
                self._scripts,
                stream=stream,
                done_key=done_key,
                dlq=self._keys.dead_letters(self._streams.index(stream)),
                group=CONSUMER_GROUP,
                consumer=self.name,
                entry_id=entry_id,
                reason=reason,
            )
        except REDIS_FAILURES as e:
            self._outage.failed(e)  # still pending: it is taken over and tried again later
            return
        self._local_finished((stream, entry_id))
        self.observer.ended(Outcome.DEAD_LETTERED)

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
        """New entries (None if Redis failed): from this worker's own shards first, from any
        shard when its own have none (worker.runtime.delivery.affinity)."""
        own = self._affinity.preferred
        if not own or len(own) == len(self._streams):  # no share (more workers than shards)
            return await self._read_streams(self._streams, room, block=block)
        # While helping (the others' shards have entries, its own not), look at its own without
        # waiting and wait on all; otherwise wait on its own and look at all without waiting.
        entries = await self._read_streams(own, room, block=block and not self._helping)
        if entries is None or entries:
            self._helping = False
            return entries
        entries = await self._read_streams(self._streams, room, block=block and self._helping)
        self._helping = bool(entries)
        return entries

    async def _read_streams(
        self, streams: list[str], room: int, *, block: bool
    ) -> list[Entry] | None:
        count = max(1, room // len(streams))
        sent_at = time.monotonic()
        try:
            response: Any
            if self._per_shard is not None:
                response = await self._per_shard.read(
                    CONSUMER_GROUP, self.name, count, block=block, streams=streams
                )
            else:
                response = await self._redis.xreadgroup(
                    CONSUMER_GROUP,
                    self.name,
                    dict.fromkeys(streams, ">"),
                    count=count,
                    block=self._block_ms if block else None,
                )
        except (RedisError, OSError) as e:
            self._outage.failed(e)
            await self._pause(self._backoff())
            return None
        self._outage.succeeded()
        return self._entries(response, sent_at)

    def _entries(self, response: Any, read_at: float) -> list[Entry]:
        entries = []
        for stream_name, messages in response or []:
            stream = stream_name.decode() if isinstance(stream_name, bytes) else stream_name
            for raw_id, fields in messages:
                entry_id = raw_id.decode()
                try:
                    envelope = Envelope.decode(fields[ENVELOPE_FIELD.encode()], self._signer)
                except (EnvelopeError, KeyError) as e:
                    # Kept, not dropped: it goes to the dead-letter stream with the reason.
                    self._unreadable.append((stream, entry_id, f"unreadable entry: {e}"))
                    continue
                previous = fields.get(PREVIOUS_FIELD.encode(), b"").decode()
                shard = self._keys.shard_of(envelope.conversation)
                done_key = self._keys.done(shard, envelope.conversation)
                sent_key = self._keys.sent(shard, entry_id)
                starts_key = self._keys.starts(shard, entry_id)
                entries.append(
                    Entry(
                        stream,
                        entry_id,
                        envelope,
                        previous,
                        done_key,
                        sent_key,
                        starts_key,
                        read_at,
                    )
                )
        return entries

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass

    async def _wait_for_predecessor(self, entry: Entry) -> None:
        waiting = asyncio.ensure_future(
            self._gate.wait(entry.done_key, entry.entry_id, entry.previous)
        )
        self._waiting[entry.key] = (entry, time.monotonic())
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=self._claim_idle_ms / 1000)
                if done:
                    self._verdicts[entry.key] = waiting.result()
                    return
                # The reader is starved, and the predecessor is neither held nor committed (a
                # failover lost its delivery): only a read can bring it back, so make room. A
                # predecessor held elsewhere runs there, or is claimed here once abandoned.
                if self._scheduler.pending >= self._max_pending and await self._predecessor_lost(
                    entry
                ):
                    self._verdicts[entry.key] = Verdict.RELEASE
                    return
        finally:
            del self._waiting[entry.key]
            waiting.cancel()  # released, or displaced by an earlier entry: stop polling

    async def _predecessor_lost(self, entry: Entry) -> bool:
        try:
            return await takeover.lost(
                self._redis, CONSUMER_GROUP, entry.stream, entry.previous, entry.done_key
            )
        except (RedisError, OSError) as e:
            self._outage.failed(e)
            return False  # unknown: wait on

    async def _handle(self, entry: Entry) -> float | None:
        """Run the entry; a delay means "failed transiently, run it again after this"."""
        retry_after = None
        if self._typing is not None:
            self._typing.started(entry.key)
        first_try = self._tries.first(entry.key)
        shard = self._keys.shard_of(entry.envelope.conversation)
        try:
            with self.observer.turn(entry.envelope, shard, entry.entry_id, first_try):
                retry_after = await self._handle_held(entry)
        finally:
            if retry_after is None:  # finished (or given up): no longer ours to renew
                self._leases.release(entry.key)
                self._tries.forget(entry.key)
        return retry_after

    async def _handle_held(self, entry: Entry) -> float | None:
        verdict = self._verdicts.pop(entry.key, Verdict.RUN)
        if verdict is Verdict.RELEASE:
            log.info("entry %s released: its predecessor is not here yet", entry.entry_id)
            return None
        if verdict is Verdict.COMMITTED:
            log.info("entry %s was already committed; acknowledging it", entry.entry_id)
            await self._acks.ack(*_commit_keys(entry))
            self._local_finished(entry.key)
            self.observer.ended(Outcome.DUPLICATE)
            return None
        holder = self._local.cannot_run(entry.envelope) if self._local is not None else None
        if holder is not None:
            return await self._pass_on(entry, holder)
        try:
            # Read (or last renewed) long ago, say before this worker was frozen: make sure it
            # is still ours before anything is done for it. No round trip otherwise.
            await self._leases.ensure(entry.key)
            attempt = await self._tries.begin(entry.key, entry.starts_key, entry.sent_key)
        except TakenOver:
            self.observer.metrics.fenced("start")
            self._fenced_off(entry, None)
            return None
        except (RedisError, OSError) as e:
            self._outage.failed(e)  # not started, so not a try: begin again once Redis answers
            return self._backoff()
        if attempt.number > self._max_deliveries:
            # A turn that crashed its worker each time (a failing one is dead-lettered below).
            await self._dead_letter(
                entry.stream,
                entry.entry_id,
                entry.done_key,
                f"tries without finishing: {attempt.number - 1} (limit {self._max_deliveries})",
            )
            return None
        commit = EntryCommit(
            stream=entry.stream,
            entry_id=entry.entry_id,
            done_key=entry.done_key,
            sent_key=entry.sent_key,
            group=CONSUMER_GROUP,
            consumer=self.name,
            replies=attempt.replies,
            leases=self._leases,
            journal=self.journal,
            scripts=self._fenced_scripts,
            on_fenced=self.observer.metrics.fenced,
        )
        try:
            await self._run_turn(entry.envelope, commit)
        except TakenOver:
            self._fenced_off(entry, commit)
            return None
        except Exception as error:
            self.turns_failed += 1
            attempts = attempt.number
            if attempts >= self._max_deliveries:
                await self._dead_letter(
                    entry.stream,
                    entry.entry_id,
                    entry.done_key,
                    f"failed {attempts} times (limit {self._max_deliveries}): "
                    f"{type(error).__name__}: {error}",
                )
                return None
            self.observer.ended(Outcome.RETRIED)
            delay = min(30.0, 0.5 * 2.0 ** (attempts - 1)) * random.uniform(0.5, 1.0)
            log.warning(
                "turn failed (attempt %d of %d), retrying in %.1f s: %s: %s",
                attempts,
                self._max_deliveries,
                delay,
                type(error).__name__,
                error,
                extra={"conversation": entry.envelope.conversation, "entry_id": entry.entry_id},
            )
            return delay
        await self._commit(entry, commit)
        return None

    async def _commit(self, entry: Entry, commit: EntryCommit) -> None:
        """After the turn: commit the entry (unless its state commit did), count the outcome."""
        if commit.fenced and not commit.committed:  # the bot swallowed the fence's error
            self._fenced_off(entry, commit)
            return
        if not commit.committed:  # a turn that saved state at its end committed with it
            # The commit deletes the record of the replies sent: one not written yet need not
            # be (in the same round trip as the commit, it would protect nothing more).
            self.journal.forget(entry.sent_key)
            if not await self._acks.ack(*_commit_keys(entry)):
                commit.fence("ack")
                self._fenced_off(entry, commit, counted=True)
                return
            commit.acknowledged()
        self.journal.forget(entry.sent_key)
        self._gate.committed(entry.done_key, entry.entry_id)
        self._local_finished(entry.key)
        self.turns_done += 1
        self.observer.ended(Outcome.FAILED if commit.bot_error else Outcome.OK)

    def _fenced_off(
        self, entry: Entry, commit: EntryCommit | None, *, counted: bool = False
    ) -> None:
        """Another worker owns the entry now (this one stalled past the claim timeout): this
        delivery wrote and sent nothing since, and the entry is not this worker's to retry."""
        self.journal.forget(entry.sent_key)
        if not counted:  # the Acknowledger counted a refused commit itself
            self.observer.metrics.lease_conflicts.inc()
        if commit is not None and commit.fenced_at is None:
            commit.fence("turn")  # a TakenOver the commit object did not raise
        log.warning(
            "entry %s was taken over by another worker; dropped here (found at %s)",
            entry.entry_id,
            commit.fenced_at if commit is not None else "start",
            extra={"conversation": entry.envelope.conversation, "entry_id": entry.entry_id},
        )
        self.observer.ended(Outcome.TAKEN_OVER)

    async def _drain(self, within: float) -> None:
        if self._scheduler.pending:
            log.info("draining %d in-flight turns (up to %.0f s)", self._scheduler.pending, within)
        try:
            async with asyncio.timeout(within):
                if self._local is not None:
                    await self._local.settled()
                await self._scheduler.join()
        except TimeoutError:
            log.warning(
                "drain timed out; %d turns left pending for redelivery", self._scheduler.pending
            )
            self._scheduler.cancel()
            await self._scheduler.join()
        await self.journal.flush()
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


def _commit_keys(entry: Entry) -> tuple[str, str, str, str]:
    return entry.stream, entry.entry_id, entry.done_key, entry.sent_key
