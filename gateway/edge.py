"""The gateway's HTTP/1.1 connections, bounded: what one client may cost a process.

uvicorn's httptools protocol bounds neither a request's head nor how long it may take to arrive,
and closes a connection for idleness only after a first answer (issue 19: 24 MiB of small
headers on one connection grew a gateway by 216 MiB; 500 silent connections exhausted its open
files). `GuardedProtocol` is that protocol with the edges held, before any application code
runs and before any authentication:

- the head (request line and headers) is refused past `max_header_bytes` or `max_headers` with
  431, and a request target past `max_request_target_bytes` with 414. The bytes are counted
  *before* they reach the parser, which would otherwise buffer a single endless header value;
- a head not complete within `header_timeout` (counted from the connection's start for its
  first request, from the request's first byte for later ones) gets 408, and so does a body
  not complete within `body_timeout` of its head; a connection that never sent a byte is closed
  without an answer;
- past `max_connections` open connections, a new one is answered 503 + Retry-After and closed;
- idle keep-alive connections are closed by uvicorn after `keepalive_seconds`;
- a request that parses, followed by bytes that do not, keeps its own answer (uvicorn would
  write a 400 while the first request is being queued); the connection closes after it.

Every refusal is the JSON error body the endpoints use, with `Connection: close`. The checks
cost the hot path (a whole request in one read) a few comparisons per read and three callbacks
per request: 1.5-3 us of CPU per request over uvicorn's protocol alone (benchmarks/edge_guard.py),
against 75-90 us per request for the whole gateway (benchmarks/gateway_ack.py), where A/B runs
show no difference beyond their noise.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import resource
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from shared.settings import Settings

log = logging.getLogger(__name__)

_HEAD_END = b"\r\n\r\n"
_FILES_KEPT = 64
"""Open files left to the process besides its connections (Redis pools, logs, the listener)."""


@dataclass(frozen=True)
class EdgeLimits:
    """The bounds `GuardedProtocol` holds; the defaults are `Settings`'s."""

    max_header_bytes: int = Settings.max_header_bytes
    max_headers: int = Settings.max_headers
    max_request_target_bytes: int = Settings.max_request_target_bytes
    header_timeout: float = Settings.header_timeout_seconds
    body_timeout: float = Settings.body_timeout_seconds
    keepalive_seconds: int = Settings.keepalive_seconds
    max_connections: int = Settings.max_connections
    retry_after_seconds: int = Settings.retry_after_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
            max_request_target_bytes=settings.max_request_target_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            keepalive_seconds=settings.keepalive_seconds,
            max_connections=settings.max_connections,
            retry_after_seconds=settings.retry_after_seconds,
        )

    def fitted_to_open_files(self) -> EdgeLimits:
        """These limits with `max_connections` lowered to what the open-file limit allows: past
        it `accept` fails and every caller, not only the newest, is refused."""
        fitted = connections_that_fit()
        if fitted is None or self.max_connections <= fitted:
            return self
        log.warning(
            "%d connections do not fit the open-file limit (%d): at most %d are kept open "
            "(TURNSTREAM_MAX_CONNECTIONS, for a gateway)",
            self.max_connections,
            resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            fitted,
        )
        return dataclasses.replace(self, max_connections=fitted)


def connections_that_fit() -> int | None:
    """How many connections the open-file limit leaves room for (None: no limit)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else max(1, soft - _FILES_KEPT)


def refusal(status: int, code: str, message: str, *, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection, with the endpoints' JSON body."""
    body = orjson.dumps({"error": code, "message": message})
    head = [
        STATUS_LINE[status],
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"connection: close\r\n",
    ]
    if retry_after is not None:
        head.append(b"retry-after: %d\r\n" % retry_after)
    return b"".join([*head, b"\r\n", body])


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the answer is already chosen."""


def guarded_protocol(limits: EdgeLimits) -> type[asyncio.Protocol]:
    """The protocol class uvicorn builds for each connection (`uvicorn.Config(http=...)`)."""
    return type("GuardedProtocol", (GuardedProtocol,), {"limits": limits})


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, bodies, time and connections."""

    limits: EdgeLimits = EdgeLimits()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = True
        """Between requests or inside a head: the bytes that arrive are head bytes. (Else
        inside a body.)"""
        self._head_started = False
        self._head_bytes = 0
        self._heads = 0
        """Heads completed on this connection: a read that completed one counts for no other."""
        self._timer: asyncio.TimerHandle | None = None
        self._refusal: bytes | None = None

    # -- connections ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self.limits
        if len(self.connections) > limits.max_connections:
            log.warning("over %d open connections: refusing one", limits.max_connections)
            self._refuse(
                refusal(
                    503,
                    "overloaded",
                    "the gateway has too many open connections; retry later",
                    retry_after=limits.retry_after_seconds,
                )
            )
            return
        self._timer = self.loop.call_later(limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        super().connection_lost(exc)

    # -- bytes in -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._refusal is not None:
            return  # refused: the connection is closing
        in_head, heads = self._in_head, self._heads
        if in_head:
            budget = self.limits.max_header_bytes - self._head_bytes
            # The whole head must end within the budget; a body in the same read does not count.
            if len(data) > budget and data.find(_HEAD_END, 0, max(budget, 0) + 4) < 0:
                return self._refuse_head_too_large()
            self._head_started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            self._unparsable()
            return
        if in_head and self._heads == heads:  # still in the same head
            self._head_bytes += len(data)
        if self._timer is None and (self._head_started or not self._in_head):
            self._start_timer()

    def _start_timer(self) -> None:
        """After a read that left a head or a body unfinished: bound the time to its end. (Not
        before: a whole request in one read, the usual case, needs no timer.)"""
        if self._in_head and self._head_started:
            self._timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)
        elif not self._in_head:
            self._timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)

    # -- parser callbacks -----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._head_started = True  # (also for a head that begins after another in one read)
        super().on_message_begin()

    # The target and the headers are checked once the head is in, not per callback (a Python
    # call per header cost the hot path ~1-3 us a request more: benchmarks/edge_guard.py); what
    # they can hold meanwhile is bounded by the head's bytes.

    def on_headers_complete(self) -> None:
        limits = self.limits
        if len(self.url) > limits.max_request_target_bytes:
            self._refusal = refusal(
                414,
                "uri_too_long",
                f"the request target is longer than {limits.max_request_target_bytes} bytes",
            )
            raise _Refused
        if len(self.headers) > limits.max_headers:
            self._refusal = refusal(
                431, "headers_too_large", f"the request has more than {limits.max_headers} headers"
            )
            raise _Refused
        self._heads += 1
        self._in_head = self._head_started = False
        self._head_bytes = 0
        if self._timer is not None:  # the head's; a body still to come gets its own
            self._stop_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        if self._timer is not None:
            self._stop_timer()
        super().on_message_complete()

    # -- refusals -------------------------------------------------------------------------------

    def _unparsable(self) -> None:
        answer = refusal(400, "bad_request", "the request is not valid HTTP/1.1")
        if not self._in_head:  # inside a request's body: that request is refused
            return self._refuse(answer)
        if self._refusal is not None:  # a callback refused the head, and chose the answer
            answer, self._refusal = self._refusal, None
        self._refuse_head(answer)

    def _refuse_head_too_large(self) -> None:
        limit = self.limits.max_header_bytes
        self._refuse_head(
            refusal(431, "headers_too_large", f"the request head is larger than {limit} bytes")
        )

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._head_started:
            self._refuse_head(
                refusal(408, "request_timeout", "the request head did not arrive in time")
            )
        else:  # never a byte of a request: nobody to answer
            self._close()

    def _refuse_head(self, answer: bytes) -> None:
        """Refuse a request whose head broke a bound. If a request before it (pipelined, or
        whole and followed by garbage) is still being answered, that one keeps its answer and
        the connection closes after it, rather than answer in its place."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return self._refuse(answer)
        cycle.keep_alive = False
        self.flow.pause_reading()
        self._stop_timer()
        self._refusal = b""  # read nothing more

    def _body_timed_out(self) -> None:
        self._timer = None
        if self.cycle is not None and self.cycle.response_started:
            return self._close()  # the application answered already; nothing else can be sent
        self._refuse(refusal(408, "request_timeout", "the request body did not arrive in time"))

    def _refuse(self, answer: bytes) -> None:
        """Answer (unless an answer is already under way) and close; parse nothing more."""
        self._refusal = answer
        self._stop_timer()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:
                answer = b""
            # The application, if waiting for the body, hears a disconnect and writes nothing.
            cycle.disconnected = True
            cycle.message_event.set()
        if answer and not self.transport.is_closing():
            self.transport.write(answer)
        self._close()

    def _close(self) -> None:
        self._stop_timer()
        if not self.transport.is_closing():
            self.transport.close()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
