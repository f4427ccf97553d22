"""loadtest/locustfile.py in headless Locust against a real gateway and worker on loopback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from turnstream.embedded import free_port

pytestmark = pytest.mark.e2e

LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"


async def test_locust_reports_acks_and_end_to_end_replies(gateway: str) -> None:
    host = gateway.removesuffix("/api/messages")
    sink_port = free_port()
    environment = os.environ | {
        "SINK_PORT": str(sink_port),
        "MESSAGES": "3",
        "REPLY_TIMEOUT": "5",
        "PYTHONWARNINGS": "ignore",  # gevent's monkey-patching warnings are not ours
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", "10", "-r", "10", "-t", "4s", "--host", host, "--json", "--only-summary",
        "--loglevel", "WARNING",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(40):
        stdout, stderr = await process.communicate()
    stats: list[dict[str, Any]] = orjson.loads(stdout)
    by_name = {(s["method"], s["name"]): s for s in stats}
    acks = by_name[("POST", "POST /api/messages")]
    replies = by_name[("REPLY", "end-to-end")]
    assert acks["num_requests"] >= 30, stderr.decode()
    assert acks["num_failures"] == 0
    # 10 users, each: a conversationUpdate (welcomed: a reply too) and messages, 1 per second.
    # Every message's reply is awaited (else "missing"); a welcome is not awaited, so one
    # posted by a user as the run ends may come too late to count. And the run's end stops each
    # user where it is: a POST still waiting for its 202 is not counted, though the gateway may
    # have queued it and its reply may come (on a busy machine it often does), one per user.
    users = 10
    assert acks["num_requests"] - users <= replies["num_requests"], stats
    assert replies["num_requests"] <= acks["num_requests"] + users, stats
    assert ("REPLY", "missing") not in by_name
    assert ("REPLY", "duplicate") not in by_name
