"""Liveness and readiness: `/healthz` says the process serves whole, `/readyz` that Redis
answers."""

from __future__ import annotations

import asyncio

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.resources import resources


async def healthz(request: Request) -> JSONResponse:
    """Alive unless a background loop died: the process is stopping, and a liveness probe that
    catches it first restarts it all the same."""
    dead = resources(request).loops.dead
    if dead is not None:
        return JSONResponse(
            {"status": "failing", "reason": f"background loop {dead!r} died"}, status_code=503
        )
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    state = resources(request)
    try:
        async with asyncio.timeout(state.settings.redis_timeout_seconds):
            await state.redis.ping()
    except (RedisError, OSError, TimeoutError) as e:
        return JSONResponse(
            {"status": "unavailable", "reason": f"Redis unreachable: {type(e).__name__}"},
            status_code=503,
            headers={"Retry-After": str(state.settings.retry_after_seconds)},
        )
    if state.backlog.over:
        return JSONResponse(
            {"status": "unavailable", "reason": f"backlog {state.backlog.backlog} over its limit"},
            status_code=503,
            headers={"Retry-After": str(state.settings.retry_after_seconds)},
        )
    return JSONResponse({"status": "ready"})
