"""The ordering gate against the real server."""

from __future__ import annotations

import asyncio

import pytest

from shared.redis.connection import Redis, connect
from shared.settings import Settings
from worker.runtime.delivery.ordering import OrderGate, Verdict, entry_order


def test_stream_ids_order_by_time_then_sequence() -> None:
    assert entry_order("1700000000000-2") > entry_order("1700000000000-1")
    assert entry_order("1700000000001-0") > entry_order("1700000000000-9")
    assert entry_order("9") == (9, 0)


async def test_first_of_a_chain_runs_at_once(redis: Redis, settings: Settings) -> None:
    gate = OrderGate(redis)
    assert await gate.wait(f"{settings.key_prefix}:done", "5-0", "") is Verdict.RUN


async def test_an_entry_waits_until_its_predecessor_is_committed(
    redis: Redis, settings: Settings
) -> None:
    done = f"{settings.key_prefix}:done"
    await redis.set(done, "3-0")
    gate = OrderGate(redis)
    waiting = asyncio.create_task(gate.wait(done, "5-0", "4-0"))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # 4-0 is still running elsewhere
    await redis.set(done, "4-0")
    assert await asyncio.wait_for(waiting, 2) is Verdict.RUN


@pytest.mark.parametrize("done", ["5-0", "6-1"])
async def test_an_entry_already_committed_is_recognised(
    redis: Redis, settings: Settings, done: str
) -> None:
    key = f"{settings.key_prefix}:done"
    await redis.set(key, done)
    assert await OrderGate(redis).wait(key, "5-0", "4-0") is Verdict.COMMITTED


async def test_many_questions_in_one_tick_are_one_round_trip(
    redis: Redis, settings: Settings
) -> None:
    keys = [f"{settings.key_prefix}:done:{n}" for n in range(20)]
    for key in keys:
        await redis.set(key, "1-0")
    gate = OrderGate(redis)
    sent: list[int] = []
    original = redis.pipeline

    def counting_pipeline(*args: object, **kwargs: object) -> object:
        sent.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    redis.pipeline = counting_pipeline  # type: ignore[method-assign, assignment]
    verdicts = await asyncio.gather(*(gate.wait(key, "2-0", "1-0") for key in keys))
    assert set(verdicts) == {Verdict.RUN}
    assert sent == [1]


async def test_redis_unreachable_is_not_taken_for_committed(settings: Settings) -> None:
    dead = connect(Settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_seconds=0.1))
    gate = OrderGate(dead)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gate.wait(f"{settings.key_prefix}:done", "5-0", "4-0"), 0.5)
    await dead.aclose()


async def test_a_predecessor_committed_here_needs_no_round_trip(
    redis: Redis, settings: Settings
) -> None:
    done = f"{settings.key_prefix}:done"
    gate = OrderGate(redis, remembered=2)
    gate.committed(done, "4-0")  # Redis itself does not know it: the gate must not ask
    assert await asyncio.wait_for(gate.wait(done, "5-0", "4-0"), 1) is Verdict.RUN
    gate.committed("other-1", "1-0")
    gate.committed("other-2", "1-0")  # the oldest memory is dropped past `remembered`
    waiting = asyncio.create_task(gate.wait(done, "5-0", "4-0"))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # forgotten: now it asks Redis, which says nothing yet
    await redis.set(done, "4-0")
    assert await asyncio.wait_for(waiting, 2) is Verdict.RUN
