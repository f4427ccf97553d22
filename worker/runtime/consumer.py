"""The consumer loop: read every shard stream through the consumer group, run turns, XACK.

An entry is acknowledged only after its turn succeeded. A turn that fails stays pending in the
group (nothing acknowledged is lost); redelivery, takeover and dead letters build on that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from shared.backoff import exponential
from shared.loops import BackgroundLoops, pause
from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.protocol.signing import EnvelopeSigner
from shared.redis.connection import OutageLog, Redis
from shared.redis.resp_pools import RespExecutor
from worker.bot.errors import TakenOver
from worker.runtime.delivery import group, trimming
from worker.runtime.delivery.acks import Acknowledger
from worker.runtime.delivery.affinity import ShardAffinity
from worker.runtime.delivery.attempts import AlreadyCommitted, Tries, Try
from worker.runtime.delivery.dead_letters import DeadLetters
from worker.runtime.delivery.entries import Entry, EntryDecoder
from worker.runtime.delivery.entry_commit import EntryCommit, Scripts
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.ordering import OrderGate, Verdict, entry_order
from worker.runtime.delivery.reader import ShardReader
from worker.runtime.delivery.scripts import REDIS_FAILURES
from worker.runtime.delivery.send_journal import SendJournal
from worker.runtime.delivery.takeover import Takeover
from worker.runtime.delivery.timings import DeliveryTimings
from worker.runtime.local_callbacks import PICK_UP_SECONDS, LocalCallbacks
from worker.runtime.metrics import Outcome, WorkerMetrics
from worker.runtime.queued_typing import QueuedTyping
from worker.runtime.scheduler import ConversationScheduler
from worker.runtime.turn_observer import TurnObserver

log = logging.getLogger(__name__)

_FLUSH_SECONDS = 5.0
"""How long a stopping worker waits, after its drain, for commits Redis has not taken yet (it
is unreachable): past that their entries stay pending, for another worker to run again."""

TurnRunner = Callable[[Envelope, EntryCommit], Awaitable[None]]
"""Runs the turn for one envelope, its writes fenced by the commit object (the turn's
`TurnContext.turn_commit`); raising means the turn failed and must not be acknowledged. The
turn may commit the entry itself, atomically with its state (`EntryCommit.committed`)."""
GaveUp = Callable[[Envelope, str], Awaitable[None]]
"""Told of an entry dead-lettered because its turn failed or crashed too often, with the
reason (a client waiting for the turn's events hears of it)."""


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
        gave_up: GaveUp | None = None,
    ) -> None:
        self._redis = redis
        self._gave_up = gave_up
        """Told of each entry dead-lettered after its turn failed or crashed too often."""
        self._local = local
        """Proactive callbacks kept in this process's memory; entries naming another worker's
        are handed to it (worker.runtime.local_callbacks)."""
        self._scripts = scripts
        """Where the per-turn scripts go (commits, sent-reply records, renewals, dead letters):
        plain RESP connections, cheaper per call than redis-py."""
        self._typing = typing
        """Shows typing for entries held here whose turn has not started after a while."""
        self._streams = keys.streams()
        self._keys = keys
        self._run_turn = run_turn
        self._max_pending = 2 * concurrency
        self._stopping = asyncio.Event()
        self._outage = OutageLog("Redis (worker)")
        self.name = name or consumer_name()
        self.observer = observer or TurnObserver(WorkerMetrics(), self.name)
        """Log fields, trace span, time and outcome of every delivery (metrics: no Redis)."""
        # The parts: what reads, what keeps held entries ours, what takes over abandoned ones,
        # what holds an entry until its predecessor committed, what commits.
        self._timings = DeliveryTimings.from_claim_timeout(claim_idle_seconds)
        self._decoder = EntryDecoder(keys, signer)
        self._affinity = ShardAffinity(scripts, keys.readers(), self.name, self._streams)
        self._reader = ShardReader(
            redis,
            self._streams,
            self.name,
            self._affinity,
            self._decoder,
            self._outage,
            block_ms=block_ms,
        )
        self._leases = Leases(scripts, CONSUMER_GROUP, self.name, claim_idle_seconds, self._outage)
        """Entries this worker holds (queued, waiting or running): kept alive by the renewal
        loop so that no other worker takes them over, and checked before acting on one whose
        lease may have lapsed."""
        self._takeover = Takeover(
            redis,
            scripts,
            self._streams,
            self.name,
            self._decoder,
            self._outage,
            self._stopping,
            timings=self._timings,
            max_pending=self._max_pending,
        )
        self._gate = OrderGate(redis)
        self._verdicts: dict[tuple[str, str], Verdict] = {}
        self._scheduler: ConversationScheduler[Entry] = ConversationScheduler(
            concurrency,
            self._handle,
            before=self._wait_for_predecessor,
            order=lambda entry: entry_order(entry.entry_id),
            ready=lambda entry: self._gate.known_ready(entry.done_key, entry.previous),
            dropped=self._let_go,
        )
        self._dead_letters = DeadLetters(
            scripts,
            keys,
            self.name,
            self._outage,
            on_moved=self._dead_lettered,
        )
        self._acks = Acknowledger(
            scripts,
            CONSUMER_GROUP,
            self.name,
            self._outage,
            on_taken_over=self.observer.metrics.lease_conflicts.inc,
        )
        self.journal = SendJournal(redis, scripts, CONSUMER_GROUP, self.name, self._outage)
        self._max_deliveries = max_deliveries
        """The most tries of a turn (worker.runtime.delivery.attempts) before its entry is
        dead-lettered."""
        self._tries = Tries(scripts, CONSUMER_GROUP, self.name)
        self._fenced_scripts = Scripts(scripts)
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
        await group.ensure_groups(self._redis, self._streams)

    async def run(
        self,
        *,
        burst: bool = False,
        drain_timeout: float = 25.0,
        loops: BackgroundLoops | None = None,
    ) -> None:
        """Read and run turns. In burst mode, return once the streams are drained.

        The consumer's background loops (renewals, takeover, trimming, affinity) run in
        `loops`, the process's group, whose owner stops the consumer if one dies; without one,
        in a group of its own, and `run` raises `LoopDied` once it has drained."""
        if loops is not None:
            await self._run(burst, drain_timeout, loops)
            return
        async with BackgroundLoops(on_death=lambda name: self.stop()) as own:
            await self._run(burst, drain_timeout, own)
        own.raise_if_dead()

    async def _run(self, burst: bool, drain_timeout: float, loops: BackgroundLoops) -> None:
        if not await self._wait_for_groups():
            return
        log.info("worker %s reading %d shard streams", self.name, len(self._streams))
        keep_alive = loops.start("lease renewal", self._leases.keep_renewed())
        take_over = loops.start("takeover", self._takeover.run(self._taken_over))
        trim = loops.start(
            "trimming",
            trimming.keep_trimmed(
                self._redis, self._streams, CONSUMER_GROUP, self._outage, self._stopping
            ),
        )
        await self._affinity.join()  # its share before its first read
        affinity = loops.start("shard affinity", self._affinity.run())
        pick_up = loops.start("local callbacks", self._pick_up_local()) if self._local else None
        try:
            await self._read_until_stopped(burst)
        finally:
            await loops.stop(take_over, trim, affinity)
            await self._affinity.leave()
            await self._drain(drain_timeout)  # held entries stay renewed while they finish
            await loops.stop(keep_alive)
            if pick_up is not None and self._local is not None:
                await loops.stop(pick_up)  # after the drain, which runs what is kept here
                await self._local.close()

    async def _read_until_stopped(self, burst: bool) -> None:
        while not self._stopping.is_set():
            room = self._max_pending - self._scheduler.pending
            if room <= 0:
                await self._scheduler.wait_changed()
                continue
            entries = await self._reader.read(room, block=not burst)
            await self._dead_letter_unreadable()
            if entries is None:  # Redis failed (logged)
                await pause(self._backoff(), self._stopping)
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

    def _let_go(self, entry: Entry) -> None:
        """Stop holding an entry that will not run here (the scheduler gave it up): unrenewed,
        it is taken over after the claim timeout (here or elsewhere) and waits again."""
        if self._typing is not None:
            self._typing.started(entry.key)
        self._verdicts.pop(entry.key, None)
        self._leases.release(entry.key)
        self._tries.forget(entry.key)

    async def _taken_over(self, entries: list[Entry]) -> None:
        await self._dead_letter_unreadable()
        if entries:
            self.observer.metrics.takeovers.inc(len(entries))
            log.warning(
                "took over %d entries from a worker that stopped renewing them", len(entries)
            )
        for entry in entries:
            self._submit(entry, taken_over=True)

    async def _dead_letter_unreadable(self) -> None:
        await self._dead_letters.move_unreadable(self._decoder.take_unreadable())

    async def _wait_for_groups(self) -> bool:
        """Create the groups, waiting out a Redis that is not there yet. False if stopped first."""
        while not self._stopping.is_set():
            try:
                await self.ensure_groups()
            except (RedisError, OSError) as e:
                self._outage.failed(e)
                await pause(self._backoff(), self._stopping)
                continue
            self._outage.succeeded()
            return True
        return False

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
            for entry in self._decoder.decode(found, sent_at):
                self._submit(entry)

    def _local_finished(self, key: tuple[str, str]) -> None:
        if self._local is not None:
            self._local.finished(key)

    def _dead_lettered(self, key: tuple[str, str]) -> None:
        self._local_finished(key)
        self.observer.ended(Outcome.DEAD_LETTERED)

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
        await self._dead_letters.move(
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

    def _backoff(self) -> float:
        """The wait before Redis is tried again, by the failures of the current outage."""
        return exponential(self._outage.failures, first=0.1, cap=5.0)

    async def _wait_for_predecessor(self, entry: Entry) -> None:
        waiting = asyncio.ensure_future(
            self._gate.wait(entry.done_key, entry.entry_id, entry.previous)
        )
        try:
            with self._takeover.waiting(entry):
                while True:
                    done, _ = await asyncio.wait(
                        {waiting}, timeout=self._timings.check_lost_predecessor_every
                    )
                    if done:
                        self._verdicts[entry.key] = waiting.result()
                        return
                    # The reader is starved, and the predecessor is neither held nor committed
                    # (a failover lost its delivery): only a read can bring it back, so make
                    # room. A predecessor held elsewhere runs there, or is claimed here once
                    # abandoned.
                    if (
                        self._scheduler.pending >= self._max_pending
                        and await self._takeover.predecessor_lost(entry)
                    ):
                        self._verdicts[entry.key] = Verdict.RELEASE
                        return
        finally:
            waiting.cancel()  # released, or displaced by an earlier entry: stop polling

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
        attempt = await self._begin(entry)
        if not isinstance(attempt, Try):
            return attempt  # not to be run: done with it (None), or begin again after a delay
        if attempt.number > self._max_deliveries:
            # A turn that crashed its worker each time (a failing one is dead-lettered below).
            await self._give_up(
                entry,
                f"tries without finishing: {attempt.number - 1} (limit {self._max_deliveries})",
            )
            return None
        commit = EntryCommit(
            stream=entry.stream,
            entry_id=entry.entry_id,
            done_key=entry.done_key,
            sent_key=entry.sent_key,
            starts_key=entry.starts_key,
            try_count=attempt.count,
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
                await self._give_up(
                    entry,
                    f"failed {attempts} times (limit {self._max_deliveries}): "
                    f"{type(error).__name__}: {error}",
                )
                return None
            self.observer.ended(Outcome.RETRIED)
            delay = exponential(attempts - 1, first=0.5, cap=30.0)
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

    async def _begin(self, entry: Entry) -> Try | float | None:
        """Count a try of the entry's turn (attempts.Tries), or say why it is not run: None
        when the entry is no longer this worker's to run, a delay when Redis did not answer."""
        try:
            # Read (or last renewed) long ago, say before this worker was frozen: make sure it
            # is still ours before anything is done for it. No round trip otherwise.
            await self._leases.ensure(entry.key)
            return await self._tries.begin(entry.key, entry.starts_key, entry.sent_key)
        except TakenOver:
            self.observer.metrics.fenced("start")
            self._fenced_off(entry, None)
            return None
        except AlreadyCommitted:
            log.warning(
                "entry %s was committed by its last try after all (its answer was lost); "
                "not run again",
                entry.entry_id,
                extra={"conversation": entry.envelope.conversation, "entry_id": entry.entry_id},
            )
            self._committed(entry, Outcome.OK)
            return None
        except REDIS_FAILURES as e:
            self._outage.failed(e)  # not started, so not a try: begin again once Redis answers
            return self._backoff()

    async def _give_up(self, entry: Entry, reason: str) -> None:
        moved = await self._dead_letters.move(entry.stream, entry.entry_id, entry.done_key, reason)
        if moved and self._gave_up is not None:
            await self._gave_up(entry.envelope, reason)

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
        self._committed(entry, Outcome.FAILED if commit.bot_error else Outcome.OK)

    def _committed(self, entry: Entry, outcome: Outcome) -> None:
        self.journal.forget(entry.sent_key)
        self._gate.committed(entry.done_key, entry.entry_id)
        self._local_finished(entry.key)
        self.turns_done += 1
        self.observer.ended(outcome)

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
        await self._acks.flush(within=_FLUSH_SECONDS)
        await self.journal.flush()
        await group.leave_group(self._redis, self._streams, self.name)


def _commit_keys(entry: Entry) -> tuple[str, str, str, str]:
    return entry.stream, entry.entry_id, entry.done_key, entry.sent_key
