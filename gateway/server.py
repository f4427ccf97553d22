"""Serve the gateway with uvicorn (uvloop + httptools, held to `gateway.edge`'s limits)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from gateway.edge import EdgeLimits, guarded_protocol

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class GatewayServer(uvicorn.Server):
    """The gateway's own process: SIGTERM or SIGINT drain it (uvicorn's graceful shutdown, then
    the lifespan's), and the process then exits with its own status, 0 after a clean stop.

    uvicorn raises the signal it caught again once shut down, so a clean stop ended as "killed
    by SIGTERM" (143 in a shell or a container's status), as a crash would have: an operator
    could not tell a rollout from a failure, and the worker exits 0 after its drain."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # On the loop (uvicorn calls this inside `serve`), not `signal.signal`: the handler
        # logs, which a handler that can interrupt any bytecode must not.
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._stop, sig)
        try:
            yield
        finally:
            for sig in _STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def _stop(self, sig: int) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl+C: stop waiting for connections
            return
        if not self.should_exit:
            log.info("%s: draining the gateway", signal.Signals(sig).name)
        self.should_exit = True


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
