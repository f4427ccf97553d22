"""The chaos suite (tests/chaos): real processes, real faults, and the numbers must be zeros.

The CI profile runs here; the soak (`TURNSTREAM_SOAK=1`, or `python -m tests.chaos --profile
soak`) runs minutes longer with more conversations and workers.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.chaos.run import run_chaos

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "profile",
    [
        "ci",
        pytest.param(
            "soak",
            marks=pytest.mark.skipif(
                os.environ.get("TURNSTREAM_SOAK") != "1", reason="set TURNSTREAM_SOAK=1"
            ),
        ),
    ],
)
async def test_no_loss_no_reordering_no_double_commit_under_faults(profile: str) -> None:
    async with asyncio.timeout(900 if profile == "soak" else 240):
        report = await run_chaos(profile)
    print(report.render())
    assert report.ok, report.render() + "\n" + report.logs
    # The faults really happened, or the zeros prove nothing.
    assert report.kills >= 3 and report.stops >= 1 and report.server_restarts == 1
    assert report.takeovers > 0
    assert set(report.connector_faults) == {"THROTTLE", "UNAVAILABLE", "SLOW"}
    assert report.resent > 0 and report.poison >= 1
