"""Leases: how long the entries a worker holds are surely still its own.

An entry is this worker's from its delivery until another worker claims it, which takes the
entry staying idle for a whole claim timeout: the renewal loop renews what the worker holds
every `renew_every` (worker.runtime.delivery.timings). A worker frozen past the claim timeout
(SIGSTOP, GC, a throttled CPU, a paused VM) may have lost entries, and must not act on them
before it knows: `ensure(key)` answers from memory while the entry was renewed (or read) less
than `check_lease_after` ago — the normal case, no round trip — and otherwise renews it at
once, owner-checked, raising `TakenOver` if it is gone.

Times are taken when a read, claim or renewal is *sent*, not when it returns: the server acts
somewhere in between, and a freeze during the round trip must count against the lease.
"""

from __future__ import annotations

import asyncio
import time

from shared.redis.connection import OutageLog
from shared.redis.resp_pools import RespExecutor
from worker.bot.errors import TakenOver
from worker.runtime.delivery import takeover
from worker.runtime.delivery.scripts import REDIS_FAILURES
from worker.runtime.delivery.timings import DeliveryTimings

EntryKey = tuple[str, str]
"""(stream, entry id)."""


class Leases:
    """The entries one worker holds (queued, waiting or running), with when each was last
    renewed; those found taken over. `keep_renewed()` is the worker's renewal loop."""

    def __init__(
        self,
        scripts: RespExecutor,
        group: str,
        consumer: str,
        claim_idle_seconds: float,
        outage: OutageLog | None = None,
    ) -> None:
        self._scripts = scripts
        self._outage = outage or OutageLog("Redis (lease renewal)")
        self._group = group
        self._consumer = consumer
        timings = DeliveryTimings.from_claim_timeout(claim_idle_seconds)
        self.renew_every = timings.renew_every
        self._check_after = timings.check_lease_after
        self._since: dict[EntryKey, float] = {}
        self.lost: set[EntryKey] = set()
        """Held entries a renewal found owned by another worker (this one was paused)."""
        self._renewing: asyncio.Future[None] | None = None
        """The renewal of everything held that `ensure` started, shared by its callers."""

    def __len__(self) -> int:
        return len(self._since)

    def __contains__(self, key: EntryKey) -> bool:
        return key in self._since

    def hold(self, key: EntryKey, since: float) -> None:
        """The entry was delivered to this worker by a read or claim sent at `since`
        (time.monotonic())."""
        self._since[key] = since

    def release(self, key: EntryKey) -> None:
        """Done with the entry (committed, dropped, dead-lettered)."""
        self._since.pop(key, None)
        self.lost.discard(key)

    async def keep_renewed(self) -> None:
        """Renew everything held every `renew_every` seconds, until cancelled. A failed round
        trip is logged as an outage and tried again at the next turn."""
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await self.renew_all()
            except REDIS_FAILURES as e:
                self._outage.failed(e)

    async def renew_all(self) -> None:
        """Renew every held entry in one round trip; note those taken over. Raises what the
        round trip raised (the caller logs the outage and tries again)."""
        held: dict[str, list[str]] = {}
        for stream, entry_id in self._since:
            held.setdefault(stream, []).append(entry_id)
        if not held:
            return
        sent_at = time.monotonic()
        lost = await takeover.renew(self._scripts, self._group, self._consumer, held)
        for stream, ids in held.items():
            for entry_id in ids:
                self._renewed((stream, entry_id), sent_at, lost)

    async def ensure(self, key: EntryKey) -> None:
        """Return once the entry is surely this worker's for a while; raise `TakenOver` if it
        is not. A round trip only when its lease may have lapsed."""
        while True:
            if key in self.lost:
                raise TakenOver(f"entry {key[1]} was taken over while this worker was away")
            since = self._since.get(key)
            if since is None:
                raise TakenOver(f"entry {key[1]} is not held by this worker")
            if time.monotonic() - since < self._check_after:
                return
            # Renew rather than only ask who owns it: knowing it is ours now says nothing of
            # how soon another worker may claim it. Everything held is renewed at once, in
            # one round trip shared by every turn that finds its lease old (the heartbeat
            # fell behind, or the worker was away): not one round trip per turn. Loop: a
            # freeze during this round trip makes the answer stale, and the lease is checked
            # again.
            await self._renew_now()

    async def _renew_now(self) -> None:
        if self._renewing is None:
            self._renewing = asyncio.ensure_future(self.renew_all())
            self._renewing.add_done_callback(self._renewed_all)
        await asyncio.shield(self._renewing)

    def _renewed_all(self, renewing: asyncio.Future[None]) -> None:
        self._renewing = None
        if not renewing.cancelled():
            renewing.exception()  # raised to every waiter; retrieved if none is left

    def _renewed(self, key: EntryKey, sent_at: float, lost: set[EntryKey]) -> None:
        if key not in self._since:
            return  # finished meanwhile
        if key in lost:
            self.lost.add(key)
        else:
            self._since[key] = max(self._since[key], sent_at)
