"""Strict per-conversation order across workers: an entry runs only after its predecessor.

Each stream entry names the conversation's previous entry (the gateway's enqueue script), and
every commit moves the conversation's `done` pointer to the committed entry. An entry may run
when `done` is its predecessor; if `done` is the entry itself or later, an earlier delivery
already committed it. Otherwise the predecessor is still running elsewhere: wait and look again.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import OrderedDict

from redis.exceptions import RedisError

from shared.backoff import Backoff
from shared.redis.connection import Redis

log = logging.getLogger(__name__)

_FIRST_POLL = 0.01
_MAX_POLL = 0.25
_STUCK_WARNING_SECONDS = 30.0


class Verdict(enum.Enum):
    RUN = "run"
    """The predecessor is committed (or there is none): run the turn."""
    COMMITTED = "committed"
    """This entry was already committed by an earlier delivery: acknowledge, do not run."""
    RELEASE = "release"
    """Waited long, while this worker holds as much as it may, for a predecessor that no worker
    holds and nobody committed: let go of the entry (it stays pending and is taken over later),
    so the reader has room for the predecessor. Needed when a failover lost a delivery: the
    predecessor must be read again, behind its successors."""


def entry_order(entry_id: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence)."""
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


class OrderGate:
    """Answers "may this entry run yet?", reading every pointer asked about in one event-loop
    tick with one pipelined round trip."""

    def __init__(self, redis: Redis, *, remembered: int = 100_000) -> None:
        self._redis = redis
        self._asks: dict[str, list[asyncio.Future[str]]] = {}
        # Commits made by this process, newest last: when the predecessor was committed here,
        # the answer is known without a round trip (conversations mostly stay on one worker).
        self._committed_here: OrderedDict[str, str] = OrderedDict()
        self._remembered = remembered
        self._fetching: set[asyncio.Task[None]] = set()

    async def wait(self, done_key: str, entry_id: str, previous: str) -> Verdict:
        """Return when the entry may run (RUN) or turns out to be committed (COMMITTED)."""
        if self.known_ready(done_key, previous):
            return Verdict.RUN
        started = time.monotonic()
        polls = Backoff(first=_FIRST_POLL, cap=_MAX_POLL, jitter=False)
        warned = False
        while True:
            done = await self._read(done_key)
            if done == previous:
                return Verdict.RUN
            if done and entry_order(done) >= entry_order(entry_id):
                return Verdict.COMMITTED
            waited = time.monotonic() - started
            if not warned and waited > _STUCK_WARNING_SECONDS:
                warned = True
                log.warning(
                    "entry %s has waited %.0f s for its predecessor %s (done: %s)",
                    entry_id,
                    waited,
                    previous,
                    done or "none",
                    extra={"entry_id": entry_id},
                )
            await asyncio.sleep(polls.next())

    def known_ready(self, done_key: str, previous: str) -> bool:
        """True when the entry may run as far as this process knows without asking Redis: it
        is the first of its chain, or this process committed its predecessor (conversations
        mostly stay on one worker). False means "ask" (`wait`), not "may not run"."""
        return not previous or self._committed_here.get(done_key) == previous

    def committed(self, done_key: str, entry_id: str) -> None:
        """This process committed `entry_id` (the pointer now names it)."""
        self._committed_here[done_key] = entry_id
        self._committed_here.move_to_end(done_key)
        if len(self._committed_here) > self._remembered:
            self._committed_here.popitem(last=False)

    async def _read(self, done_key: str) -> str:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        if not self._asks:
            loop.call_soon(self._start_fetch)
        self._asks.setdefault(done_key, []).append(future)
        return await future

    def _start_fetch(self) -> None:
        task = asyncio.get_running_loop().create_task(self._fetch())
        self._fetching.add(task)
        task.add_done_callback(self._fetching.discard)

    async def _fetch(self) -> None:
        asks, self._asks = self._asks, {}
        keys = list(asks)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.get(key)
                values: list[bytes | None] = await pipe.execute()
        except (RedisError, OSError) as e:
            # Unknown is not "committed": answer "none yet" and let the waiters poll again.
            log.warning("could not read commit pointers: %s", e)
            values = [None] * len(keys)
        for key, value in zip(keys, values, strict=True):
            for future in asks[key]:
                if not future.done():
                    future.set_result(value.decode() if value else "")
