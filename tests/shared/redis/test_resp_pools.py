"""`open_resp_pool(..., timeout_seconds=...)`: every batch bounded in time, against a real server
that stops answering (SIGSTOP), and outer cancellations left to their owners."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

from shared.redis.resp_pools import RespExecutor, _Timed, open_resp_pool
from shared.settings import Settings
from turnstream.embedded import EmbeddedRedis

TIMEOUT = 0.3


@pytest.fixture
def frozen() -> Iterator[tuple[EmbeddedRedis, RespExecutor]]:
    """A server of its own, and a timed pool on it; the test stops the server with `_freeze`."""
    with EmbeddedRedis(appendonly=False) as server:
        settings = Settings(redis_url=server.url, redis_max_connections=1)
        yield server, open_resp_pool(settings, timeout_seconds=TIMEOUT)
        assert server.pid is not None
        os.kill(server.pid, signal.SIGCONT)  # a test that failed half-way left it stopped


def _freeze(server: EmbeddedRedis, stopped: bool) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP if stopped else signal.SIGCONT)


async def test_a_batch_not_answered_in_time_raises_timeout_and_its_reply_is_never_reused(
    frozen: tuple[EmbeddedRedis, RespExecutor],
) -> None:
    server, pool = frozen
    await pool.execute([("SET", "a", "first")])
    _freeze(server, True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await pool.execute([("GET", "a")])
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 5  # bounded: not hung
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # the timer's cancellation is consumed
    _freeze(server, False)
    # The late reply to the timed-out GET must not be read as the answer to this ECHO.
    assert await pool.execute([("ECHO", "second")]) == [b"second"]
    await pool.aclose()


async def test_an_outer_cancellation_stays_a_cancellation(
    frozen: tuple[EmbeddedRedis, RespExecutor],
) -> None:
    server, pool = frozen
    await pool.execute([("PING",)])
    _freeze(server, True)
    batch = asyncio.ensure_future(pool.execute([("PING",)]))
    await asyncio.sleep(0.05)  # the batch is waiting for its reply
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    # An outer timeout shorter than the pool's is the outer one's: TimeoutError from it, and
    # the pool's timer does not fire later into whatever the task does next.
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await pool.execute([("PING",)])
    await asyncio.sleep(TIMEOUT + 0.1)  # past the pool's own deadline: nothing cancels us
    _freeze(server, False)
    assert await pool.execute([("PING",)]) == [b"PONG"]
    await pool.aclose()


async def test_batches_answered_in_time_leave_no_cancellation_behind(redis_url: str) -> None:
    pool = open_resp_pool(Settings(redis_url=redis_url), timeout_seconds=TIMEOUT)
    replies = await asyncio.gather(*(pool.execute([("ECHO", str(i))]) for i in range(50)))
    assert replies == [[str(i).encode()] for i in range(50)]
    await asyncio.sleep(TIMEOUT + 0.1)  # every batch's timer was cancelled, none fires now
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await pool.aclose()


async def test_a_cancellation_the_batch_swallowed_is_taken_back() -> None:
    """A pool that answers even though its timer fired (it caught the cancellation) returns its
    answer, and leaves no cancellation request on the task for a later timeout to misread."""

    class Stubborn:
        async def execute(self, commands: object) -> list[object]:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass  # a pool that should not do this; the timer must still clean up after it
            return [b"late"]

        async def aclose(self) -> None:
            return None

    pool = _Timed(Stubborn(), 0.05)
    assert await pool.execute([("PING",)]) == [b"late"]
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
