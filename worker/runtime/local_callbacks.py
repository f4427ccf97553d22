"""Proactive callbacks that cannot travel by name (lambdas, closures): kept in the memory of the
worker whose bot code queued them, and run by that worker only (docs/decisions/0019).

The turn is queued like any other, in its conversation's chain, carrying
`local:<consumer>:<token>`. Whichever worker reads it waits for its predecessor as usual and
then, instead of running it, hands it to the holder (`worker.runtime.delivery.handover`: the
holder becomes the entry's owner, fenced). The holder picks up what was handed to it every
`PICK_UP_SECONDS` and runs it in order, with the same fencing, sent-reply records and retries
as any turn. A turn the holder reads itself it simply runs.

While it holds callbacks, the holder keeps `Keyspace.callback_holder` alive. A worker that finds
the key gone (the holder stopped, crashed, or froze past `HOLDER_TTL_SECONDS`) dead-letters the
turn with the reason instead of handing it over: its callback no longer exists anywhere, and a
turn never runs in a process that does not hold its callback. So a local callback runs at most
once per delivery of its entry, in order, or ends in the dead letters, logged: never lost
silently.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.protocol.envelope import Envelope
from shared.protocol.keys import CONSUMER_GROUP, Keyspace
from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from worker.bot.proactive import LOCAL
from worker.bot.types import ProactiveCallback
from worker.runtime.delivery import handover
from worker.runtime.delivery.scripts import REDIS_FAILURES

log = logging.getLogger(__name__)

HOLDER_TTL_SECONDS = 10.0
"""How long a holder's key outlives its last renewal: past it, its turns are dead-lettered."""
RENEW_SECONDS = 1.0
"""How often a holder renews its key while it holds callbacks."""
PICK_UP_SECONDS = 0.05
"""How often a holder looks for turns handed over to it: the added latency of a hand-over."""


@dataclass
class _Kept:
    callback: ProactiveCallback
    stream: str | None = None
    entry_id: str | None = None


def holder_of(envelope: Envelope) -> str | None:
    """The consumer whose memory holds the envelope's callback, or None (not a local one)."""
    callback = envelope.proactive.callback if envelope.proactive is not None else None
    if callback is None or not callback.startswith(LOCAL):
        return None
    return callback[len(LOCAL) :].rpartition(":")[0] or None


class LocalCallbacks:
    """One worker's kept callbacks (`worker.bot.proactive.LocalCallbacks`), and its side of the
    hand-over: `alive`, `hand_over` for entries it reads; `pick_up` for entries handed to it."""

    def __init__(self, redis: Redis, scripts: RespExecutor, keys: Keyspace, consumer: str) -> None:
        self._redis = redis
        self._scripts = scripts
        self._keys = keys
        self.consumer = consumer
        self._kept: dict[str, _Kept] = {}
        self._by_entry: dict[tuple[str, str], str] = {}
        self._renewed_at = float("-inf")
        self._none_kept = asyncio.Event()
        self._none_kept.set()
        self._some_kept = asyncio.Event()

    # -- what bot code does (through the adapter) -------------------------------------------

    async def keep(self, callback: ProactiveCallback) -> str:
        name = f"{LOCAL}{self.consumer}:{uuid.uuid4().hex}"
        self._kept[name] = _Kept(callback)
        self._none_kept.clear()
        self._some_kept.set()
        # Before the turn is queued: a worker that reads it must find this holder alive.
        await self.renew()
        return name

    def queued(self, name: str, conversation: str, entry_id: str) -> None:
        kept = self._kept.get(name)
        if kept is None:
            return
        kept.stream = self._keys.stream(self._keys.shard_of(conversation))
        kept.entry_id = entry_id
        self._by_entry[(kept.stream, entry_id)] = name

    def dropped(self, name: str) -> None:
        self._forget(name)

    def _forget(self, name: str) -> None:
        self._kept.pop(name, None)
        if not self._kept:
            self._none_kept.set()
            self._some_kept.clear()

    def cannot_run(self, envelope: Envelope) -> str | None:
        """The holder of the envelope's callback when this worker cannot run its turn: another
        worker, or this one if it no longer keeps that callback. None: run it here (or it is
        no local callback at all)."""
        holder = holder_of(envelope)
        if holder is None or (holder == self.consumer and self._holds(envelope)):
            return None
        return holder

    def _holds(self, envelope: Envelope) -> bool:
        proactive = envelope.proactive
        return proactive is not None and proactive.callback in self._kept

    def find(self, name: str) -> ProactiveCallback | None:
        kept = self._kept.get(name)
        return kept.callback if kept is not None else None

    # -- what the consumer does --------------------------------------------------------------

    def finished(self, entry: tuple[str, str]) -> None:
        """The entry (stream, id) was committed or dead-lettered here: its callback goes."""
        name = self._by_entry.pop(entry, None)
        if name is not None:
            self._forget(name)

    async def kept(self) -> None:
        """Return once a callback is kept (the pick-up loop sleeps until then)."""
        await self._some_kept.wait()

    async def settled(self) -> None:
        """Return once no callback is kept (their turns run here or nowhere: a draining worker
        waits for them)."""
        await self._none_kept.wait()

    async def alive(self, holder: str) -> bool:
        """Whether `holder` still holds its callbacks (its key is alive)."""
        return bool(await self._redis.exists(self._keys.callback_holder(holder)))

    async def hand_over(self, stream: str, entry_id: str, holder: str) -> bool:
        """Make `holder` the owner of an entry this worker owns; False if it does not."""
        return await handover.hand_over(
            self._scripts, CONSUMER_GROUP, self.consumer, stream, entry_id, holder
        )

    async def pick_up(self, held: Callable[[tuple[str, str]], bool]) -> list[tuple[str, list[Any]]]:
        """Entries handed over to this worker that it does not hold yet, claimed (as
        XREADGROUP answers them). Renews the holder's key on the way."""
        await self.renew()
        wanted: dict[str, list[str]] = {}
        for key in self._by_entry:
            if not held(key):
                wanted.setdefault(key[0], []).append(key[1])
        if not wanted:
            return []
        return await handover.pick_up(self._scripts, CONSUMER_GROUP, self.consumer, wanted)

    async def renew(self) -> None:
        """Keep the holder's key alive while callbacks are kept. If it had expired (this
        worker froze, or Redis lost it), other workers may have dead-lettered some of its turns:
        forget the callbacks of those."""
        now = time.monotonic()
        if not self._kept or now - self._renewed_at < RENEW_SECONDS:
            return
        previous: Any = await self._redis.set(
            self._keys.callback_holder(self.consumer),
            b"1",
            px=int(HOLDER_TTL_SECONDS * 1000),
            get=True,
        )
        lapsed = previous is None and self._renewed_at != float("-inf")
        self._renewed_at = now
        if lapsed:
            await self._forget_finished()

    async def _forget_finished(self) -> None:
        entries = list(self._by_entry)
        if not entries:
            return
        for entry, done in zip(
            entries, await handover.finished(self._scripts, CONSUMER_GROUP, entries), strict=True
        ):
            if done:
                log.error(
                    "proactive turn %s was dead-lettered while this worker did not renew its "
                    "callbacks; its callback is dropped",
                    entry[1],
                    extra={"entry_id": entry[1]},
                )
                self.finished(entry)

    async def close(self) -> None:
        """The worker stops: callbacks whose turn has not run are lost with it. Say so, and
        drop the key at once so that other workers dead-letter those turns without waiting."""
        if self._kept:
            log.error(
                "worker stopping with %d proactive callbacks kept in memory whose turns did not "
                "run; those turns will be dead-lettered",
                len(self._kept),
            )
        self._kept.clear()
        self._by_entry.clear()
        self._none_kept.set()
        self._some_kept.clear()
        try:
            await self._redis.delete(self._keys.callback_holder(self.consumer))
        except REDIS_FAILURES as e:
            log.warning("could not drop the callback holder's key (it expires): %s", e)
