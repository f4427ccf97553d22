"""A recording Bot Connector that misbehaves on a schedule: 429 with Retry-After, 503, slow."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass, field
from enum import Enum

from aiohttp import web


class Fault(Enum):
    THROTTLE = "429 with Retry-After: 1"
    UNAVAILABLE = "503"
    SLOW = "2 s answers"


@dataclass(frozen=True)
class FaultWindow:
    fault: Fault
    start: float
    """Seconds after the run started."""
    end: float
    share: float
    """Fraction of requests in the window that get the fault."""


@dataclass(frozen=True)
class Reply:
    at: float
    """When it was answered (monotonic)."""
    arrived_at: float
    """When its request arrived: it was in flight from then until `at`."""
    conversation: str
    text: str
    reply_to: str | None
    sender: int | None
    """The pid of the worker process that sent it (the chaos bot names it)."""


@dataclass
class FaultyConnector:
    windows: list[FaultWindow]
    started: float = field(default_factory=time.monotonic)
    replies: list[Reply] = field(default_factory=list)
    faults: dict[Fault, int] = field(default_factory=dict)
    typing: int = 0
    """Typing indicators received (messages that waited for their turn)."""
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def serve(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._handle)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return runner, f"http://127.0.0.1:{port}"

    def _fault_now(self) -> Fault | None:
        now = time.monotonic() - self.started
        for window in self.windows:
            if window.start <= now < window.end and random.random() < window.share:
                return window.fault
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        arrived_at = time.monotonic()
        body = await request.json()
        if body.get("type") == "typing":  # shown while a message waits: not a reply
            self.typing += 1
            return web.json_response({})
        fault = self._fault_now()
        if fault is not None:
            self.faults[fault] = self.faults.get(fault, 0) + 1
        if fault is Fault.THROTTLE:
            return web.json_response(
                {"error": {"code": "Throttled"}}, status=429, headers={"Retry-After": "1"}
            )
        if fault is Fault.UNAVAILABLE:
            return web.json_response({"error": {"code": "ServiceUnavailable"}}, status=503)
        if fault is Fault.SLOW:
            await asyncio.sleep(2)
        self.replies.append(
            Reply(
                time.monotonic(),
                arrived_at,
                request.match_info["conversation"],
                str(body.get("text", "")),
                request.match_info.get("reply_to"),
                (body.get("channelData") or {}).get("pid"),
            )
        )
        return web.json_response({"id": f"r-{next(self._ids)}"})
