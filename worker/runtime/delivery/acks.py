"""Commit turns that saved no state: move the conversation's `done` pointer to the entry and
acknowledge it, atomically (one small script per entry), every commit of one event-loop tick in
one pipelined round trip. Turns that saved state commit inside the state script instead.

A commit is sent again until Redis answers: its turn already replied, so the entry stays held
(renewed) by its worker meanwhile, and its conversation's next turn waits for it. Giving up
left the entry pending while the worker counted it done, and a Redis Cluster failover that
outlasted the retries left the conversations' next turns waiting for it (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from shared.backoff import exponential
from shared.protocol.keys import CHAIN_TTL_SECONDS
from shared.redis.connection import OutageLog
from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.fence import HOLDER
from worker.runtime.delivery.scripts import REDIS_FAILURES, Script

log = logging.getLogger(__name__)

COMMIT_SCRIPT = f"""{HOLDER}
local who = holder(KEYS[1], ARGV[1], ARGV[2])
if not who then
  return -2
end
if who ~= ARGV[3] then
  return -1
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', {CHAIN_TTL_SECONDS})
redis.call('DEL', KEYS[3])
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
"""
"""KEYS: the shard stream, the conversation's done pointer, the entry's record of sent replies
(one slot; the record is no longer needed once the entry is committed). ARGV: group, entry id,
this consumer. Fenced (`fence.HOLDER`): if another consumer took the entry over (this one was
paused or cut off past the claim timeout), nothing happens and -1 comes back; -2 if the entry is
no longer pending at all (acknowledged). The pointer moves before the XACK: if the XACK never
happens, a redelivery finds the entry committed."""
COMMIT = Script(COMMIT_SCRIPT)

_Commit = tuple[str, str, str, str, "asyncio.Future[bool]"]
"""stream, entry id, done pointer, record of sent replies, and who waits for it."""


class Acknowledger:
    """`await ack(stream, entry_id, done_key, sent_key)` returns once the commit was sent (or
    given up): False if the fence refused it."""

    def __init__(
        self,
        scripts: RespExecutor,
        group: str,
        consumer: str,
        outage: OutageLog,
        on_taken_over: Callable[[], None] | None = None,
    ) -> None:
        """`on_taken_over()` is called for each commit the fence refused (metrics)."""
        self._scripts = scripts
        self._on_taken_over = on_taken_over
        self._group = group
        self._consumer = consumer
        self._outage = outage
        self._batch: list[_Commit] = []
        self._in_flight: set[asyncio.Task[None]] = set()

    def ack(self, stream: str, entry_id: str, done_key: str, sent_key: str) -> asyncio.Future[bool]:
        """Commit a turn that saved no state (fenced: see COMMIT_SCRIPT). The future resolves
        once Redis took the commit, to False if the fence refused it (another worker took the
        entry over); it is cancelled if the worker stopped first (`flush`). The commit goes out
        with this tick's batch
        whether or not anyone still waits for it, so a stop that cancels the waiting turn does
        not cancel a commit begun (no `asyncio.shield`, and its task, needed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._flush)
        self._batch.append((stream, entry_id, done_key, sent_key, future))
        return future

    async def flush(self, within: float) -> None:
        """Wait up to `within` seconds for commits already handed over (a draining worker calls
        this before it closes the connections they go out on: a turn cut short by the drain
        timeout no longer waits for its own). Commits Redis has not taken by then are given up:
        their entries stay pending, for another worker to run again."""
        self._flush()
        if not self._in_flight:
            return
        _, unsent = await asyncio.wait(self._in_flight, timeout=within)
        if unsent:
            log.error(
                "%d commit batches not taken by Redis within %.0f s; their entries will be "
                "delivered again",
                len(unsent),
                within,
            )
            for task in unsent:
                task.cancel()
            await asyncio.gather(*unsent, return_exceptions=True)

    def _flush(self) -> None:
        if not self._batch:
            return  # sent already (by `flush`)
        batch, self._batch = self._batch, []
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, batch: list[_Commit]) -> None:
        try:
            await self._commit(batch)
        except asyncio.CancelledError:
            for *_, future in batch:
                future.cancel()  # not committed: nobody may take it for a commit
            raise
        for *_, future in batch:
            if not future.done():
                future.set_result(True)

    async def _commit(self, batch: list[_Commit]) -> None:
        attempt = 0
        while True:
            try:
                results = await COMMIT.run(
                    self._scripts,
                    [
                        ((stream, done_key, sent_key), (self._group, entry_id, self._consumer))
                        for stream, entry_id, done_key, sent_key, _ in batch
                    ],
                )
                errors = [r for r in results if isinstance(r, Exception)]
                if errors:
                    raise errors[0]
                for (_, entry_id, *_, future), result in zip(batch, results, strict=True):
                    if result == -2 and attempt > 0:
                        # Acknowledged since this commit was first sent: by that very send,
                        # whose answer was lost (or by a worker that took the entry over and
                        # committed it meanwhile): committed either way.
                        log.info("entry %s: an earlier send of its commit landed", entry_id)
                    elif result in (-1, -2):
                        log.warning(
                            "entry %s was taken over by another worker: not committed", entry_id
                        )
                        if self._on_taken_over is not None:
                            self._on_taken_over()
                        if not future.done():
                            future.set_result(False)
                self._outage.succeeded()
                return
            except REDIS_FAILURES as e:
                self._outage.failed(e)
                await asyncio.sleep(exponential(attempt, first=0.1, cap=1.6))
                attempt += 1
