"""Worker scripts survive a server that lost its script cache, and never run a call twice."""

from __future__ import annotations

from shared.redis.connection import Redis
from shared.redis.resp_pools import RespExecutor
from shared.settings import Settings
from worker.runtime.delivery.scripts import Script

COUNT = Script("return redis.call('INCR', KEYS[1])")


async def test_each_call_runs_exactly_once_across_a_lost_script_cache(
    redis: Redis, scripts: RespExecutor, settings: Settings
) -> None:
    keys = [f"{settings.key_prefix}:n{i}" for i in range(3)]
    assert await COUNT.run(scripts, [((key,), ()) for key in keys]) == [1, 1, 1]
    await redis.script_flush()  # what a restart or failover does
    assert await COUNT.run(scripts, [((key,), ()) for key in keys]) == [2, 2, 2]
    assert [int(await redis.get(key) or 0) for key in keys] == [2, 2, 2]


async def test_errors_come_back_in_place(
    redis: Redis, scripts: RespExecutor, settings: Settings
) -> None:
    failing = Script("return redis.call('INCR', KEYS[1])")
    key = f"{settings.key_prefix}:text"
    await redis.set(key, "not a number")
    (result,) = await failing.run(scripts, [((key,), ())])
    assert isinstance(result, Exception) and "not an integer" in str(result)
