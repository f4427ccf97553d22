"""How often a worker does what keeps delivery safe, named once as fractions of the claim
timeout (`TURNSTREAM_CLAIM_IDLE_SECONDS`): an entry left idle that long is abandoned, and any
worker may claim it. Every other period is a fraction of it, chosen against it; this page says
why each fraction is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeliveryTimings:
    """The delivery periods for one claim timeout, in seconds (`from_claim_timeout`)."""

    claim_timeout: float
    """An entry idle this long is abandoned: another worker may claim it."""
    renew_every: float
    """How often held entries are renewed: a third of the claim timeout, so that two renewals
    in a row may fail (a slow Redis, a long GC pause) before an entry held here looks
    abandoned."""
    check_lease_after: float
    """Past half the claim timeout since its last renewal, an entry may be lost (this worker
    missed a renewal, say it was frozen): it is renewed before the worker starts its turn,
    sends a reply or writes. Half: later than a renewal that is merely due (a third), with
    room left for the round trip before another worker could claim it."""
    takeover_every: float
    """How often a worker looks for abandoned entries: a fifth of the claim timeout, at most a
    second, so that a dead worker's entries wait little past the claim timeout (the
    takeover target is p99 within 10 s) for a cost of one round trip a second."""
    suspect_predecessor_after: float
    """An entry that has waited this long (half the claim timeout) for its predecessor may wait
    on a dead worker: the predecessor is worth trying to claim (the claim takes it only if
    nobody renewed it for a whole claim timeout, so trying early costs nothing wrong)."""
    quiet_after_outage: float
    """After Redis was unreachable, every worker's entries look idle, live ones included: no
    claim for a whole claim timeout, so that the live workers can renew theirs first."""
    check_lost_predecessor_every: float
    """How often an entry waiting for its predecessor, while the reader has no room, asks
    whether a failover lost that predecessor: once per claim timeout, the time its worker
    would have had to renew it."""

    @classmethod
    def from_claim_timeout(cls, seconds: float) -> DeliveryTimings:
        return cls(
            claim_timeout=seconds,
            renew_every=seconds / 3,
            check_lease_after=seconds / 2,
            takeover_every=min(1.0, seconds / 5),
            suspect_predecessor_after=seconds / 2,
            quiet_after_outage=seconds,
            check_lost_predecessor_every=seconds,
        )

    @property
    def claim_timeout_ms(self) -> int:
        """The claim timeout as XAUTOCLAIM and XCLAIM take it."""
        return int(self.claim_timeout * 1000)
