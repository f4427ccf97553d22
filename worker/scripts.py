"""Running the worker's Lua scripts: EVALSHA, pipelined, loading a script the server lost."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redis.exceptions import NoScriptError

from shared.redisconn import Redis

ScriptCall = tuple[Sequence[str], Sequence[str | bytes | int]]
"""KEYS and ARGV of one call."""


class Script:
    """A script known by its SHA; `run` sends many calls in one round trip."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def run(self, redis: Redis, calls: Sequence[ScriptCall]) -> list[object]:
        """One result per call, exceptions included (not raised). A server that lost its script
        cache (restart, failover) answers NOSCRIPT without running the call: the script is
        loaded and only those calls are sent again, so none runs twice."""
        results = await self._send(redis, calls)
        missing = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
        if missing:
            await redis.script_load(self.text)
            retried = await self._send(redis, [calls[i] for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    async def _send(self, redis: Redis, calls: Sequence[ScriptCall]) -> list[object]:
        async with redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                # execute_command: a cluster pipeline refuses `evalsha()` but routes EVALSHA
                # by its first key, which is all a script call here touches (one slot).
                pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
            results: list[object] = await pipe.execute(raise_on_error=False)
        return results
