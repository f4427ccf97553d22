"""A small pool of plain RESP connections for hot paths that send commands in batches.

redis-py spends ~23 µs of client CPU per pipelined command, most of it packing the command and
parsing each reply in Python; packing with `hiredis.pack_command` and parsing with
`hiredis.Reader` on a plain asyncio stream costs ~7 µs (docs/decisions/0004). The gateway's
enqueue, which runs once per inbound activity, sends on this pool; the worker's per-turn
scripts on its pipelined sibling (`shared.redis.resp_pipeline`); everything else uses redis-py.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import hiredis
from redis.asyncio.connection import parse_url

from shared.errors import TurnstreamError

Command = Sequence[str | bytes | int]

_READ_SIZE = 256 * 1024


class RespError(TurnstreamError):
    """The server answered a handshake command with an error, or broke the protocol."""


ReplyError = hiredis.ReplyError
"""An error reply (`-ERR ...`, `-NOSCRIPT ...`): returned in place of a result, not raised."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect, read from a redis://, rediss:// or unix:// URL."""

    host: str = "localhost"
    port: int = 6379
    path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: ssl.SSLContext | None = None

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        options = parse_url(url)
        tls = None
        if url.startswith("rediss://"):
            ca_file = options.get("ssl_ca_certs")
            tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            if options.get("ssl_cert_reqs") in ("none", ssl.CERT_NONE):
                tls.check_hostname = False
                tls.verify_mode = ssl.CERT_NONE
        return cls(
            host=options.get("host", "localhost"),
            port=int(options.get("port", 6379)),
            path=options.get("path"),
            db=int(options.get("db", 0)),
            username=options.get("username"),
            password=options.get("password"),
            tls=tls,
        )

    def handshake(self) -> list[Command]:
        """What a new connection sends first: AUTH and SELECT, as the URL asks (maybe nothing)."""
        commands: list[Command] = []
        if self.password:
            credentials = [self.username] if self.username else []
            commands.append(["AUTH", *credentials, self.password])
        if self.db:
            commands.append(["SELECT", self.db])
        return commands


def is_noscript(reply: object) -> bool:
    """Whether a reply is NOSCRIPT: the server lost its script cache (a restart, a failover) and
    ran nothing; load the script and send the call again."""
    return isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT")


def check_handshake(replies: Sequence[Any]) -> None:
    """Raise `RespError` if the server refused a command of `Endpoint.handshake`."""
    for reply in replies:
        if isinstance(reply, ReplyError):
            raise RespError(f"Redis refused the connection handshake: {reply}")


class RespConnection:
    """One connection; `execute` writes a batch and reads exactly as many replies.

    Exactly: a reply nobody asked for (more replies than commands, part of one more, bytes that
    came while the connection was idle) raises `RespError`, and the pool closes the connection,
    so that no reply is ever handed to the wrong batch."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, endpoint: Endpoint) -> RespConnection:
        if endpoint.path:
            reader, writer = await asyncio.open_unix_connection(endpoint.path)
        else:
            reader, writer = await asyncio.open_connection(
                endpoint.host, endpoint.port, ssl=endpoint.tls
            )
        connection = cls(reader, writer)
        try:
            await connection._handshake(endpoint)
        except BaseException:
            connection.close()
            raise
        return connection

    async def _handshake(self, endpoint: Endpoint) -> None:
        commands = endpoint.handshake()
        if commands:
            check_handshake(await self.execute(commands))

    @property
    def usable(self) -> bool:
        """False once the server closed it (restart, idle timeout) or sent bytes while it was
        idle (nobody asked for them): do not send on it."""
        # StreamReader has no public way to ask whether bytes are waiting; `_buffer` is where it
        # keeps them (asyncio's own streams, under uvloop too).
        unasked = bool(getattr(self._reader, "_buffer", b""))
        return not (unasked or self._reader.at_eof() or self._writer.is_closing())

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """Send every command at once; return one reply per command, error replies included."""
        # hiredis's stub types the argument as a 1-tuple; any tuple of arguments is accepted.
        packed = b"".join(hiredis.pack_command(tuple(c)) for c in commands)  # type: ignore[arg-type]
        self._writer.write(packed)
        # A parser per batch: nothing of one batch's replies can be left in it for the next.
        parser = hiredis.Reader()
        replies: list[Any] = []
        try:
            while len(replies) < len(commands):
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    raise ConnectionError("Redis closed the connection")
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    replies.append(reply)
            if len(replies) == len(commands) and not parser.has_data():
                # No bytes left over; and no reply begun either (the start of an array leaves
                # no data behind): an empty simple string must then parse as itself.
                parser.feed(b"+\r\n")
                if parser.gets() == b"":
                    return replies
        except hiredis.ProtocolError as e:
            raise RespError(f"Redis protocol error: {e}") from e
        raise RespError(f"Redis sent more than {len(commands)} replies to {len(commands)} commands")

    def close(self) -> None:
        self._writer.close()


class NotDurable(RespError):
    """The batch was written on the primary, but too few replicas confirmed it in time."""


@dataclass(frozen=True)
class Durability:
    """A command appended to every batch so that its writes count only once replicated:
    `WAIT replicas timeout` (in a replica's memory) or `WAITAOF 0 replicas timeout` (fsynced to
    a replica's append-only file). Fewer confirmations in time fail the batch (`NotDurable`)."""

    replicas: int
    timeout_ms: int
    aof: bool = False

    def command(self) -> Command:
        if self.aof:
            return ("WAITAOF", 0, self.replicas, self.timeout_ms)
        return ("WAIT", self.replicas, self.timeout_ms)

    def check(self, reply: Any) -> None:
        if isinstance(reply, ReplyError):
            raise NotDurable(f"{self.command()[0]!s} failed: {reply}")
        confirmed = int(reply[1]) if self.aof else int(reply)
        if confirmed < self.replicas:
            raise NotDurable(
                f"{confirmed} of {self.replicas} replicas confirmed within {self.timeout_ms} ms"
            )


class RespPool:
    """Up to `max_connections` connections, each carrying one batch at a time.

    A connection whose batch failed or was cancelled half-way is closed, never reused: its
    replies may still be on the way. With `durability`, every batch ends with WAIT/WAITAOF.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        max_connections: int,
        durability: Durability | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[RespConnection] = []
        self._durability = durability

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    async def execute(self, commands: Sequence[Command]) -> list[Any]:
        """One reply per command, error replies included. Raises `NotDurable` when the batch's
        writes did not reach the replicas that `durability` asks for."""
        durability = self._durability
        if durability is not None:
            commands = [*commands, durability.command()]
        async with self._slots:
            connection = self._take_idle() or await RespConnection.open(self._endpoint)
            try:
                replies = await connection.execute(commands)
            except BaseException:
                connection.close()
                raise
            self._idle.append(connection)
        if durability is not None:
            durability.check(replies.pop())
        return replies

    def _take_idle(self) -> RespConnection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable:
                return connection
            connection.close()
        return None

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


class ServerPool(Protocol):
    """One server's batches: what the cluster and Sentinel pools send through."""

    @property
    def endpoint(self) -> Endpoint: ...

    async def execute(self, commands: Sequence[Command]) -> list[Any]: ...

    async def aclose(self) -> None: ...


ServerPools = Callable[[Endpoint], ServerPool]
"""Makes the pool for a server the cluster or Sentinel pool found."""


@dataclass(frozen=True)
class Pooled:
    """A `RespPool` of `max_connections` per server (the gateway's enqueue)."""

    max_connections: int
    durability: Durability | None = None

    def __call__(self, endpoint: Endpoint) -> RespPool:
        return RespPool(endpoint, max_connections=self.max_connections, durability=self.durability)
