"""One RESP connection that carries the batches of a whole loop iteration in one write.

A worker runs many turns at once, and each sends a few small batches of its own (its state
read, its commit). On a pool of connections, one batch per connection, every batch is a send()
and a wakeup on both sides: ~30-40 µs of the worker's CPU per batch on loopback, the largest
single cost of a stateful turn (issue 24), and valkey pays a read and a write per batch too.
Here every batch issued while the loop runs its ready callbacks is queued, and the queue goes
out in one write when the loop reaches the flush callback. Valkey answers a connection's
commands in order, so the replies are handed back to their batches by count, in the order
they were queued.

Because each batch's place in the reply stream is known, a cancelled batch costs nothing: its
replies are read and dropped when they come. What retires the connection is the server: its
close, a protocol error, a reply nobody asked for, or the oldest batch waiting longer than
`timeout_seconds` (every batch still waiting fails with TimeoutError, and the next batch opens
a new connection). Blocking commands (XREADGROUP BLOCK, WAIT) must not be sent here: they
would hold up every batch behind them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import hiredis

from shared.redis.resp import Command, Endpoint, RespError, check_handshake


class _Batch:
    __slots__ = ("count", "future", "queued_at", "replies")

    def __init__(self, future: asyncio.Future[list[Any]], count: int, queued_at: float) -> None:
        self.future = future
        self.count = count
        self.queued_at = queued_at
        self.replies: list[Any] = []


class _Connection(asyncio.Protocol):
    """The connection's protocol: queues batches, writes them once per loop iteration, and
    hands each reply to the oldest batch still short of replies."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_seconds: float) -> None:
        self._loop = loop
        self._timeout = timeout_seconds
        self._transport: asyncio.Transport | None = None
        self._parser = hiredis.Reader()
        self._waiting: deque[_Batch] = deque()
        self._out: list[bytes] = []
        self._watchdog: asyncio.TimerHandle | None = None
        self.failure: BaseException | None = None
        """Why the connection was retired (None while it is usable)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self._transport = cast(asyncio.Transport, transport)

    def send(self, commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        """Queue a batch for this iteration's write; its replies resolve the future."""
        if self.failure is not None:
            raise _fresh(self.failure)
        # hiredis's stub types the argument as a 1-tuple; any tuple of arguments is accepted.
        packed = b"".join(hiredis.pack_command(tuple(c)) for c in commands)  # type: ignore[arg-type]
        future: asyncio.Future[list[Any]] = self._loop.create_future()
        now = self._loop.time()
        self._waiting.append(_Batch(future, len(commands), now))
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(packed)
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(now + self._timeout, self._check_answered)
        return future

    def _flush(self) -> None:
        if self._out and self._transport is not None and self.failure is None:
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
        waiting = self._waiting
        try:
            while (reply := self._parser.gets()) is not False:
                if not waiting:
                    self.retire(RespError("Redis sent a reply nobody asked for"))
                    return
                batch = waiting[0]
                batch.replies.append(reply)
                if len(batch.replies) == batch.count:
                    waiting.popleft()
                    if not batch.future.done():  # a cancelled batch's replies are dropped
                        batch.future.set_result(batch.replies)
        except hiredis.ProtocolError as e:
            self.retire(RespError(f"Redis protocol error: {e}"))

    def eof_received(self) -> bool:
        self.retire(ConnectionError("Redis closed the connection"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.retire(ConnectionError(f"Redis connection lost: {exc or 'closed'}"))

    def _check_answered(self) -> None:
        self._watchdog = None
        if not self._waiting or self.failure is not None:
            return
        due = self._waiting[0].queued_at + self._timeout
        if self._loop.time() >= due:
            self.retire(TimeoutError("Redis did not answer in time"))
        else:
            self._watchdog = self._loop.call_at(due, self._check_answered)

    def retire(self, error: BaseException) -> None:
        """Fail every waiting batch with `error` and close: nothing more is sent on it."""
        if self.failure is None:
            self.failure = error
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future = self._waiting.popleft().future
            if not future.done():
                future.set_exception(_fresh(error))
        self._out.clear()
        if self._transport is not None:
            self._transport.close()


class PipelinedRespPool:
    """`execute(commands)` like `RespPool`, every batch on one connection (reopened after it is
    retired), the batches of one loop iteration in one write. A batch waits at most
    `timeout_seconds` for its replies, and so does opening the connection."""

    def __init__(self, endpoint: Endpoint, *, timeout_seconds: float) -> None:
        self._endpoint = endpoint
        self._timeout = timeout_seconds
        self._connection: _Connection | None = None
        self._opening: asyncio.Future[_Connection] | None = None

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, error replies included. Raises ConnectionError (an OSError)
        or `RespError` when the connection fails, TimeoutError when it does not answer."""
        connection = self._connection
        if connection is None or connection.failure is not None:
            connection = await self._open()
        return await connection.send(commands)

    async def _open(self) -> _Connection:
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._connect())
            self._opening.add_done_callback(self._opened)
        return await asyncio.shield(self._opening)

    def _opened(self, opening: asyncio.Future[_Connection]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            self._connection = opening.result()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        endpoint = self._endpoint
        async with asyncio.timeout(self._timeout):
            if endpoint.path:
                _, connection = await loop.create_unix_connection(
                    lambda: _Connection(loop, self._timeout), endpoint.path
                )
            else:
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop, self._timeout),
                    endpoint.host,
                    endpoint.port,
                    ssl=endpoint.tls,
                )
            try:
                await _handshake(connection, endpoint)
            except BaseException as e:
                connection.retire(e)
                raise
        return connection

    async def aclose(self) -> None:
        if self._opening is not None:
            self._opening.cancel()
        if self._connection is not None:
            self._connection.retire(ConnectionError("the pool was closed"))
            self._connection = None


def _fresh(error: BaseException) -> BaseException:
    """An exception of its own for each batch that fails: one instance raised in many tasks
    would collect all their tracebacks."""
    return type(error)(*error.args)


@dataclass(frozen=True)
class Pipelined:
    """A `PipelinedRespPool` per server (the worker's scripts)."""

    timeout_seconds: float

    def __call__(self, endpoint: Endpoint) -> PipelinedRespPool:
        return PipelinedRespPool(endpoint, timeout_seconds=self.timeout_seconds)


async def _handshake(connection: _Connection, endpoint: Endpoint) -> None:
    commands = endpoint.handshake()
    if commands:
        check_handshake(await connection.send(commands))
