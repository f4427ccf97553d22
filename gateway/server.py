"""Serve the gateway with uvicorn (uvloop + httptools, held to `gateway.edge`'s limits)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from gateway.edge import EdgeLimits, guarded_protocol


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host, for several servers in one event loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_config(
    app: ASGIApp, host: str, port: int, limits: EdgeLimits | None = None
) -> uvicorn.Config:
    """uvicorn's configuration for a gateway (or any of turnstream's HTTP servers): httptools
    held to `limits` (`gateway.edge`; Settings' defaults when not given)."""
    limits = (limits or EdgeLimits()).fitted_to_open_files()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        timeout_keep_alive=limits.keepalive_seconds,
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=10,
        backlog=2048,
    )
