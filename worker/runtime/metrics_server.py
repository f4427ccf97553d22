"""A worker's small HTTP server (`TURNSTREAM_METRICS_PORT`): `GET /metrics` for Prometheus and
`GET /healthz`, answered from process memory (no Redis command).

Two paths, scraped every few seconds by Prometheus and the kubelet: plain asyncio streams, one
request per connection, rather than a web framework (aiohttp's server and client stack is ~11 MB
of a worker's resident memory, issue 24).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus

from prometheus_client import CollectorRegistry

from shared.telemetry.metrics import CONTENT_TYPE, exposition

log = logging.getLogger(__name__)

PATHS = ("/metrics", "/healthz")
"""What the server answers (the Kubernetes manifests are checked against it)."""

_PATHS = frozenset(path.encode() for path in PATHS)
_MAX_HEAD_BYTES = 8 * 1024
_READ_SECONDS = 5.0
"""A client gets this long to send its request head; then the connection is closed."""


class MetricsServer:
    """Serves `registry` on /metrics, and /healthz: 200 while `healthy()`, else 503. Any other
    path is 404, any other method 405, a head that is not HTTP or too long 400."""

    def __init__(
        self, registry: CollectorRegistry, healthy: Callable[[], bool], host: str, port: int
    ) -> None:
        self._registry = registry
        self._healthy = healthy
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=_MAX_HEAD_BYTES
        )
        log.info("worker metrics on http://%s:%d/metrics", self._host, self.port)

    @property
    def port(self) -> int:
        """The port listened on (the one asked for, or the one given for port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            async with asyncio.timeout(_READ_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            status, content_type, body = self._answer(head)
            reason = HTTPStatus(status).phrase.encode()
            writer.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s"
                % (status, reason, content_type.encode(), len(body), body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass  # the client went away, or sent no head in time: nothing to answer
        finally:
            writer.close()
            self._connections.discard(task)

    def _answer(self, head: bytes) -> tuple[int, str, bytes]:
        request_line = head.split(b"\r\n", 1)[0].split(b" ")
        if len(request_line) != 3 or not request_line[2].startswith(b"HTTP/1."):
            return 400, "text/plain", b"bad request\n"
        method, target = request_line[0], request_line[1].split(b"?", 1)[0]
        if target not in _PATHS:
            return 404, "text/plain", b"not found\n"
        if method != b"GET":
            return 405, "text/plain", b"method not allowed\n"
        if target == b"/metrics":
            return 200, CONTENT_TYPE, exposition(self._registry)
        if self._healthy():
            return 200, "application/json", b'{"status":"ok"}'
        return 503, "application/json", b'{"status":"stopping"}'
