"""Real HTTP on loopback for tests: an ASGI app served by uvicorn, a JSON POST."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from starlette.types import ASGIApp

from gateway.edge import EdgeLimits
from gateway.server import EmbeddedServer, server_config
from turnstream.embedded import free_port


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, limits: EdgeLimits | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in this event loop; yield its URL."""
    port = free_port()
    server = EmbeddedServer(server_config(app, "127.0.0.1", port, limits))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def post_json(
    http: aiohttp.ClientSession, url: str, body: Any, **headers: str
) -> tuple[int, Any]:
    """POST `body` as JSON; the status and the parsed answer (None for an empty body)."""
    async with http.post(
        url, data=orjson.dumps(body), headers={"Content-Type": "application/json", **headers}
    ) as response:
        raw = await response.read()
        return response.status, orjson.loads(raw) if raw else None
