"""A worker's small HTTP server (`TURNSTREAM_METRICS_PORT`): `GET /metrics` for Prometheus and
`GET /healthz`, answered from process memory (no Redis command).

Workers have no other HTTP server; aiohttp is already there for the connector.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from shared.telemetry.metrics import CONTENT_TYPE, exposition

log = logging.getLogger(__name__)

PATHS = ("/metrics", "/healthz")
"""What the server answers (the Kubernetes manifests are checked against it)."""


class MetricsServer:
    """Serves `registry` on /metrics, and /healthz: 200 while `healthy()`, else 503."""

    def __init__(
        self, registry: CollectorRegistry, healthy: Callable[[], bool], host: str, port: int
    ) -> None:
        self._registry = registry
        self._healthy = healthy
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        metrics, health = PATHS
        app.router.add_get(metrics, self._metrics)
        app.router.add_get(health, self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        log.info("worker metrics on http://%s:%d/metrics", self._host, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=exposition(self._registry), headers={"Content-Type": CONTENT_TYPE})

    async def _health(self, request: web.Request) -> web.Response:
        if self._healthy():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "stopping"}, status=503)
