"""Running the worker's Lua scripts: EVALSHA on plain RESP connections, a batch of calls per
round trip, loading a script the server lost.

The per-turn commit and the record of sent replies run here on every turn: on `RespExecutor`
connections (hiredis packing and parsing, decision 0004) a pipelined call costs ~3-4x less
client CPU than through a redis-py pipeline."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from redis.exceptions import RedisError

from shared.redis.resp import Command, ReplyError, RespError, is_noscript
from shared.redis.resp_pools import RespExecutor

REDIS_FAILURES = (RedisError, OSError, RespError, ReplyError)
"""What a Redis round trip may raise here: redis-py's errors, a dropped connection or a
timeout (OSError), a broken RESP exchange, and a script's own error reply, raised by a caller."""

ScriptCall = tuple[Sequence[str], Sequence[str | bytes | int]]
"""KEYS and ARGV of one call."""


class Script:
    """A script known by its SHA; `run` sends many calls in one round trip."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    async def run(self, pool: RespExecutor, calls: Sequence[ScriptCall]) -> list[object]:
        """One result per call, errors included (not raised): a `ReplyError` the script
        raised, or a `RespError` for a call whose server did not answer (a cluster master
        failing over). Raises OSError, TimeoutError or `RespError` when the round trip
        failed as a whole. A server that lost its script cache (restart, failover) answers
        NOSCRIPT without running the call: the script is loaded and only those calls are
        sent again, so none runs twice."""
        results = await pool.execute([self._command(call) for call in calls])
        missing = [i for i, result in enumerate(results) if is_noscript(result)]
        if missing:
            await pool.execute([("SCRIPT", "LOAD", self.text)])
            retried = await pool.execute([self._command(calls[i]) for i in missing])
            for i, result in zip(missing, retried, strict=True):
                results[i] = result
        return results

    def _command(self, call: ScriptCall) -> Command:
        keys, args = call
        return ("EVALSHA", self.sha, len(keys), *keys, *args)
