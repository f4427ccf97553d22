"""The delivery periods, all derived from the claim timeout in one place."""

from __future__ import annotations

import pytest

from shared.redis.resp_pools import RespExecutor
from worker.runtime.delivery.leases import Leases
from worker.runtime.delivery.timings import DeliveryTimings


def test_the_default_claim_timeout_gives_the_documented_periods() -> None:
    timings = DeliveryTimings.from_claim_timeout(5.0)
    assert timings.claim_timeout_ms == 5000
    assert timings.renew_every == pytest.approx(5 / 3)
    assert timings.check_lease_after == pytest.approx(2.5)
    assert timings.takeover_every == pytest.approx(1.0)
    assert timings.suspect_predecessor_after == pytest.approx(2.5)
    assert timings.quiet_after_outage == pytest.approx(5.0)
    assert timings.check_lost_predecessor_every == pytest.approx(5.0)


@pytest.mark.parametrize("claim_timeout", [0.3, 1.0, 5.0, 30.0, 600.0])
def test_the_periods_keep_their_order_for_any_claim_timeout(claim_timeout: float) -> None:
    """What makes delivery safe: held entries are renewed well before anyone may claim them,
    and checked before acting once a renewal may have been missed."""
    t = DeliveryTimings.from_claim_timeout(claim_timeout)
    assert 2 * t.renew_every < t.claim_timeout  # two renewals may fail before a claim
    assert t.renew_every < t.check_lease_after < t.claim_timeout
    assert t.takeover_every <= min(1.0, t.claim_timeout)  # a dead worker's entries wait little
    assert t.suspect_predecessor_after < t.claim_timeout


def test_leases_renew_on_the_timings_schedule(scripts: RespExecutor) -> None:
    leases = Leases(scripts, "group", "consumer", claim_idle_seconds=6.0)
    assert leases.renew_every == DeliveryTimings.from_claim_timeout(6.0).renew_every == 2.0
