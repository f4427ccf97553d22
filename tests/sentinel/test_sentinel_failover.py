"""Sentinel: one primary, one replica, three Sentinels, all local. The primary is killed while a
channel keeps posting: every request is answered within a bound (202, or 503 + Retry-After
during the switch), then the gateway writes to the promoted replica and the worker resumes."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from gateway.enqueue import Enqueuer, Unavailable
from samples.echo import bot as echo
from shared.redis.resp import Endpoint, Pooled
from shared.redis.sentinel_resp import SentinelRespPool
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from turnstream.devconnector import DevConnector
from turnstream.embedded import free_port
from turnstream.embedded_cluster import EmbeddedSentinels
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

BOUND_SECONDS = 3.0
"""No request may take longer: the Redis timeout is 0.5 s, the enqueue fails within it."""


@pytest.fixture(scope="module")
def sentinels() -> Iterator[EmbeddedSentinels]:
    with EmbeddedSentinels(replicas=1, sentinels=3, down_after_ms=1000) as started:
        yield started


async def test_the_gateway_never_hangs_and_the_worker_resumes_after_a_failover(
    sentinels: EmbeddedSentinels, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    settings = Settings(
        redis_url=sentinels.url,
        key_prefix=f"test-{uuid.uuid4().hex[:12]}",
        shards=4,
        redis_timeout_seconds=0.5,
        drain_timeout_seconds=5,
        allow_private_service_urls=True,
        typing_while_queued_seconds=0,  # replies are counted; a typing is not one
    )
    old_primary = sentinels.current_primary_port()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, echo, concurrency=8, handle_signals=False, stop=stop)
    )
    answers: list[tuple[str, int, float]] = []
    timeout = aiohttp.ClientTimeout(total=BOUND_SECONDS + 2)
    async with (
        serving(create_app(settings)) as gateway,
        aiohttp.ClientSession(timeout=timeout) as http,
    ):

        async def post(n: int) -> None:
            activity = message(f"m{n}", activity_id=f"m{n}", service_url=service_url)
            started = time.monotonic()
            async with http.post(
                f"{gateway}/api/messages",
                data=orjson.dumps(activity),
                headers={"Content-Type": "application/json"},
            ) as response:
                if response.status == 503:
                    assert response.headers["Retry-After"]
                answers.append((f"m{n}", response.status, time.monotonic() - started))

        for n in range(5):
            await post(n)
        assert sentinels.primary is not None and sentinels.primary.pid is not None
        os.kill(sentinels.primary.pid, signal.SIGKILL)  # our own server process
        killed_at = time.monotonic()
        n = 5
        recovered = 0
        while recovered < 5 and time.monotonic() - killed_at < 30:
            await post(n)
            n += 1
            after_kill = answers[-1][1] == 202 and time.monotonic() - killed_at > 0.5
            recovered = recovered + 1 if after_kill else 0
            await asyncio.sleep(0.1)
        failover_seconds = time.monotonic() - killed_at
        accepted_after = [i for i, status, _ in answers[5:] if status == 202]
        await dev.wait_for(5 + len(accepted_after), within=20)
    stop.set()
    await worker

    assert {status for _, status, _ in answers} == {202, 503}, answers  # 503s in the switch
    assert max(elapsed for *_, elapsed in answers) < BOUND_SECONDS, answers
    assert recovered == 5, f"no recovery within {failover_seconds:.1f} s: {answers}"
    assert sentinels.current_primary_port() != old_primary
    replied = {a["replyToId"] for a in dev.activities()}
    assert set(accepted_after) <= replied


async def test_no_sentinel_answering_is_a_503_not_a_hang() -> None:
    pool = SentinelRespPool(
        [("127.0.0.1", free_port())], "turnstream", Endpoint(), servers=Pooled(1)
    )
    enqueuer = Enqueuer(pool, dedupe_window_seconds=60, timeout_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await enqueuer.enqueue("s", "seen", "last", b"x", dedupe=False)
    assert time.monotonic() - started < 1.5
    await pool.aclose()
