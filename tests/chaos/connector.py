"""A recording Bot Connector that misbehaves by count: 429 with Retry-After, 503, slow."""

from __future__ import annotations

import asyncio
import itertools
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
    """`fault` for every `every`-th reply request after the first `after`, `times` times.

    Opened and closed by counting reply requests, never by the clock: on a slow or busy machine
    the requests come later and the window moves with them, so no window can pass with no
    request inside it (one scheduled by the clock can), and each is served exactly `times`
    times once the connector has seen `last` reply requests."""

    fault: Fault
    after: int
    every: int
    times: int

    @property
    def last(self) -> int:
        """The reply request that gets the fault for the last time: the window closes there."""
        return self.after + self.every * self.times

    def hits(self, request: int) -> bool:
        """Whether the `request`-th reply request (from 1) gets this window's fault."""
        since = request - self.after
        return 0 < since <= self.every * self.times and since % self.every == 0


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
    replies: list[Reply] = field(default_factory=list)
    requests: int = 0
    """Reply requests seen, answered with a fault or not (typing indicators are not counted):
    the run's measure of progress, which opens and closes the fault windows."""
    faults: dict[Fault, int] = field(default_factory=dict)
    typing: int = 0
    """Typing indicators received (messages that waited for their turn)."""
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _counted: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def reached(self, requests: int) -> None:
        """Return once the connector has seen `requests` reply requests."""
        async with self._counted:
            await self._counted.wait_for(lambda: self.requests >= requests)

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

    def _next_fault(self) -> Fault | None:
        """Count one more reply request; the fault it gets, if any."""
        self.requests += 1
        for window in self.windows:
            if window.hits(self.requests):
                self.faults[window.fault] = self.faults.get(window.fault, 0) + 1
                return window.fault
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        arrived_at = time.monotonic()
        body = await request.json()
        if body.get("type") == "typing":  # shown while a message waits: not a reply
            self.typing += 1
            return web.json_response({})
        fault = self._next_fault()
        async with self._counted:
            self._counted.notify_all()
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
