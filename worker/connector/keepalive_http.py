"""A small HTTP/1.1 keep-alive client for the Bot Connector's hot path (replies).

aiohttp spent ~250 µs of client CPU per connector POST, the largest piece of a worker's echo
turn; this client writes the request bytes itself on a plain asyncio connection and parses the
answer with `httptools` (llhttp, in C): see docs/decisions/0014-keepalive-http-client.md.

What it does, and deliberately no more:

- one pool of connections per origin (scheme, host, port), reused most-recent-first, bounded in
  total (`max_connections`); idle ones are closed after `idle_seconds`;
- https with certificate and host name verification and SNI (`ssl.create_default_context()`,
  as aiohttp does, or a context the caller gives);
- host names resolved here, and refused whole if any address is not public unless private
  addresses are allowed (the same rule as `worker.connector.safe_resolver` for aiohttp);
- one total timeout per request, from asking for a connection to the last body byte;
- an answer's head bounded (`max_head_bytes`, `max_headers`, counted before the parser buffers
  anything) and its body bounded per request (`max_body`, checked against Content-Length
  first): a service URL that answers without end costs the bound, never the worker's memory;
- interim answers (`100 Continue`, `103 Early Hints`) skipped; `101 Switching Protocols`, which
  nobody asked for, refused;
- no redirects (a 3xx is an answer like any other), no compression (none is asked for);
- a connection is closed, never reused, after a timeout, a cancellation, a parse error, a
  `Connection: close` or HTTP/1.0 answer, or any byte the server sends unasked, including bytes
  that follow an answer in the same packet (they would otherwise answer the next request).

An answer that breaks a bound or the protocol raises `AnswerRefused`.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import cast

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from worker.connector.errors import PrivateAddressRefused
from worker.connector.service_urls import is_public

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""Host name and port to the addresses to try, in order."""


class HttpConnectionError(ConnectionError):
    """The connection failed or broke before a whole answer arrived (an OSError, so callers
    treat it as a network failure)."""


class AnswerRefused(HttpConnectionError):
    """The server's answer broke a bound or the protocol: a head or body too large, bytes that
    are not HTTP/1.1, an upgrade. The connection is closed; the caller decides what it means."""


MAX_HEAD_BYTES = 64 * 1024
"""The largest answer head (status line and headers) read; the Bot Connector's are ~1 KB."""
MAX_HEADERS = 100
DEFAULT_MAX_BODY = 8 * 1024 * 1024
_HEAD_END = b"\r\n\r\n"


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the failure is already recorded."""


class CannotConnect(HttpConnectionError):
    """No connection could be made: the name did not resolve, every address refused or timed
    out, or the TLS handshake failed (a certificate not trusted: the cause says which)."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: at most one request in flight, its answer parsed as it comes."""

    def __init__(
        self, max_head_bytes: int = MAX_HEAD_BYTES, max_headers: int = MAX_HEADERS
    ) -> None:
        self._max_head_bytes = max_head_bytes
        self._max_headers = max_headers
        self._max_body = DEFAULT_MAX_BODY
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[tuple[int, bytes, Mapping[str, str]]] | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._head_bytes = 0
        self._body_bytes = 0
        self._headers_done = False
        self._length_known = False
        self._keep_alive = False
        self._answered = False
        self._refusal: AnswerRefused | None = None
        self.closed = False
        self.idle_since = 0.0

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's is not an asyncio.Transport subclass: no isinstance).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for (a 408 on an idle connection, garbage)
            return
        if not self._headers_done:
            budget = self._max_head_bytes - self._head_bytes
            # Counted before the parser sees them: it would buffer an endless header value.
            if len(data) > budget and data.find(_HEAD_END, 0, max(budget, 0) + 4) < 0:
                self._fail(AnswerRefused(f"answer head larger than {self._max_head_bytes} bytes"))
                return
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(AnswerRefused("the server switched protocols, which nobody asked for"))
        except httptools.HttpParserError as problem:
            if self._refusal is not None:
                self._fail(self._refusal)
            else:
                self._fail(AnswerRefused(f"malformed HTTP answer: {problem}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and not self._length_known:
            self._finish()  # neither Content-Length nor chunked: the body ends with the connection
        else:
            self._fail(HttpConnectionError(f"connection closed before the answer ended: {exc}"))

    # -- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answered:  # bytes after the answer, in the same packet: nobody asked for them
            self._refuse("bytes after the answer")

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self._headers) >= self._max_headers:
            self._refuse(f"more than {self._max_headers} headers in the answer")
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        declared = -1
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "content-length":
                declared = int(value) if value.strip().isdigit() else -1
                self._length_known = True
            elif lowered == "transfer-encoding":
                self._length_known = True
        if self._parser.get_status_code() in (204, 304):
            self._length_known = True
        if declared > self._max_body:  # refused before a byte of it is read
            self._refuse(f"answer body of {declared} bytes, more than {self._max_body}")

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body:
            self._refuse(f"answer body larger than {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is None or self._waiter.done():
            self.close()  # a second answer to one request
            return
        if 100 <= self._parser.get_status_code() < 200:
            head_bytes = self._head_bytes  # interim heads count against the one bound
            self._reset()  # an interim answer (100 Continue, 103): the real one follows
            self._head_bytes = head_bytes
            return
        # Asked now: llhttp forgets the answer's keep-alive once the next message begins.
        self._keep_alive = self._parser.should_keep_alive()
        self._finish()

    # -- the pool's side --------------------------------------------------------------------

    def send(
        self, request: bytes, deadline: float, max_body: int = DEFAULT_MAX_BODY
    ) -> asyncio.Future[tuple[int, bytes, Mapping[str, str]]]:
        """Write one request; the future gets (status, body, headers), or TimeoutError if the
        whole answer is not in by `deadline` (loop time; the connection is then closed), or
        AnswerRefused for an answer past the bounds (a body past `max_body` bytes)."""
        if self._transport is None or self.closed:
            raise HttpConnectionError("connection closed before the request was sent")
        self._reset()
        self._answered = False
        self._max_body = max_body
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        # A timer on the answer rather than `asyncio.timeout` around the await: the same bound
        # for a third of the CPU (~3 µs against ~10 µs per request).
        self._deadline = loop.call_at(deadline, self._fail, TimeoutError("no answer in time"))
        self._transport.write(request)
        return self._waiter

    @property
    def reusable(self) -> bool:
        return not self.closed and self._keep_alive

    def close(self) -> None:
        self.closed = True
        self._stop_deadline()
        if self._transport is not None:
            self._transport.close()

    def _reset(self) -> None:
        self._keep_alive = False
        self._headers = []
        self._body = []
        self._head_bytes = 0
        self._body_bytes = 0
        self._headers_done = False
        self._length_known = False
        self._refusal = None

    def _refuse(self, reason: str) -> None:
        self._refusal = AnswerRefused(reason)
        raise _Refused

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _finish(self) -> None:
        assert self._waiter is not None
        self._answered = True
        self._stop_deadline()
        if not self._waiter.done():
            headers = CIMultiDictProxy(CIMultiDict(self._headers))
            self._waiter.set_result((self._parser.get_status_code(), b"".join(self._body), headers))

    def _fail(self, error: Exception) -> None:
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


_Origin = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Target:
    """A request's destination as `KeepAliveHttp.request` takes it: the scheme, the host as it
    goes in the Host header (IDNA-encoded, without brackets), the port, and the path with its
    query, escaped. Parsed once per destination, not per request."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def of(cls, url: str) -> Target:
        """An absolute http(s) URL's target; ValueError for anything else."""
        from yarl import URL  # loaded on first use: not part of every process's memory

        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host or parsed.port is None:
            raise ValueError(f"not an http(s) URL: {url!r}")
        return cls(parsed.scheme, parsed.raw_host, parsed.port, parsed.raw_path_qs or "/")


class KeepAliveHttp:
    """Connection pools per origin; `request` sends one request and returns its answer."""

    def __init__(
        self,
        *,
        timeout_seconds: float,
        allow_private: bool = False,
        max_connections: int = 100,
        idle_seconds: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._allow_private = allow_private
        self._idle_seconds = idle_seconds
        self._ssl = ssl_context
        self._resolve = resolve or _system_resolve
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[_Origin, collections.deque[_Connection]] = {}
        self._reaper: asyncio.TimerHandle | None = None
        self._closed = False

    async def request(
        self,
        method: str,
        scheme: str,
        host: str,
        port: int,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send `method target` to scheme://host:port (host as it goes in the Host header:
        IDNA-encoded, without brackets) and return (status, body, headers). Raises TimeoutError,
        CannotConnect, HttpConnectionError (a connection that broke), AnswerRefused (an answer
        past the bounds, a body past `max_body` bytes included) or PrivateAddressRefused (all
        OSErrors)."""
        request = _request_bytes(method, target, _host_header(scheme, host, port), headers, body)
        origin = (scheme, host, port)
        deadline = asyncio.get_running_loop().time() + self._timeout
        if self._slots.locked():
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        else:
            await self._slots.acquire()
        try:
            connection = self._idle_connection(origin)
            if connection is None:
                async with asyncio.timeout_at(deadline):
                    connection = await self._connect(origin)
            try:
                answer = await connection.send(request, deadline, max_body)
            except BaseException:
                connection.close()  # half a request or a late answer must never reach the next
                raise
            if connection.reusable and not self._closed:
                self._park(origin, connection)
            else:
                connection.close()
            return answer
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        connections = self._idle.get(origin)
        deadline = time.monotonic() - self._idle_seconds
        while connections:
            connection = connections.pop()  # the most recent: the least likely to be stale
            if not connection.closed and connection.idle_since > deadline:
                return connection
            connection.close()
        return None

    def _park(self, origin: _Origin, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(origin, collections.deque()).append(connection)
        if self._reaper is None:
            self._reaper = asyncio.get_running_loop().call_later(self._idle_seconds, self._reap)

    def _reap(self) -> None:
        """Close connections idle for `idle_seconds`; come back while any are left."""
        self._reaper = None
        deadline = time.monotonic() - self._idle_seconds
        for origin, connections in list(self._idle.items()):
            kept = [c for c in connections if not c.closed and c.idle_since > deadline]
            for connection in connections:
                if connection not in kept:
                    connection.close()
            if kept:
                self._idle[origin] = collections.deque(kept)
            else:
                del self._idle[origin]
        if self._idle and not self._closed:
            self._reaper = asyncio.get_running_loop().call_later(self._idle_seconds, self._reap)

    async def _connect(self, origin: _Origin) -> _Connection:
        scheme, host, port = origin
        addresses = await self._addresses(host, port)
        context: ssl.SSLContext | None = None
        if scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in addresses:
            connection = _Connection()
            try:
                await loop.create_connection(
                    lambda connection=connection: connection,
                    address,
                    port,
                    ssl=context,
                    server_hostname=host if context is not None else None,
                )
            except OSError as problem:  # ssl.SSLError (a certificate refused) included
                failure = problem
                continue
            return connection
        raise CannotConnect(f"cannot connect to {host}:{port}: {failure}") from failure

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [host]  # a literal address: OutboundPolicy.check_destination judged it
        try:
            addresses = await self._resolve(host, port)
        except OSError as problem:  # socket.gaierror: no such name, no DNS
            raise CannotConnect(f"cannot resolve {host}: {problem}") from problem
        if not self._allow_private:
            for address in addresses:
                if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                    raise PrivateAddressRefused(
                        f"{host} resolves to a non-public address; set "
                        "TURNSTREAM_ALLOW_PRIVATE_SERVICE_URLS=true to allow it"
                    )
        return addresses


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "User-Agent: turnstream"


def _host_header(scheme: str, host: str, port: int) -> str:
    name = f"[{host}]" if ":" in host else host
    return name if _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"


def _request_bytes(
    method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    # A User-Agent as aiohttp sent one: some proxies and firewalls refuse requests without.
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", USER_AGENT]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body or b'')}")
    head = "\r\n".join(lines)
    breaks = len(lines) - 1
    if head.count("\n") != breaks or head.count("\r") != breaks:
        # A header value (or the target) carrying a line break would smuggle headers in.
        raise ValueError("line break in an HTTP request line or header")
    return (head + "\r\n\r\n").encode() + (body or b"")
