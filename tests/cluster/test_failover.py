"""A master killed and its replica promoted mid-run (tests/cluster/failover.py): the checker
reports what the gateway acknowledged and the cluster lost, with and without
TURNSTREAM_ACK_DURABILITY; either way the worker resumes and answers everything still queued.
Longer runs: `python -m tests.cluster.failover --durability none --runs 5`."""

from __future__ import annotations

import asyncio

import pytest

from shared.settings import AckDurability
from tests.cluster.failover import run_failover

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real cluster, a master killed mid-run


@pytest.mark.parametrize("durability", [AckDurability.NONE, AckDurability.REPLICA])
async def test_a_master_killed_mid_run(durability: AckDurability) -> None:
    async with asyncio.timeout(120):
        report = await run_failover(durability, conversations=16, messages=20)
    print(report.render())
    assert report.acknowledged_before_kill > 0 and report.acknowledged > 0
    assert report.refused > 0  # the killed master's slots answered 503 during the switch
    assert report.slowest_answer_s < 3  # never hangs: bounded by the Redis timeout
    assert report.unanswered == [], report.render()  # the worker resumed
    if durability is not AckDurability.NONE:
        assert report.lost == [], report.render()  # acknowledged means replicated
    else:  # the window without it: whatever was not yet replicated (reported, not asserted)
        assert len(report.lost) <= report.acknowledged
