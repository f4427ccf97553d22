"""The gateway's connections, bounded (gateway/edge.py, issue 19): request heads, slow clients,
the connection cap, and bytes after a request. Raw sockets, since no HTTP client sends these."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.app import create_app
from gateway.edge import EdgeLimits
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.streams import stream_lengths
from turnstream.embedded import free_port

ACTIVITY = orjson.dumps(message("hi"))
READ_BOUND = 30.0
"""The longest any read here waits: far past every timeout the tests configure, so a slow
machine only makes a test slower, and a connection the gateway never closes still fails it."""


def _post(body: bytes = ACTIVITY, *, target: str = "/api/messages", extra: bytes = b"") -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
    """One answer: status, headers (lower-case names) and the parsed JSON body (None if empty)."""
    async with asyncio.timeout(READ_BOUND):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        )
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(lines[0].split()[1]), headers, orjson.loads(body) if body else None


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True once the server closed the connection (everything before the end is skipped)."""
    async with asyncio.timeout(READ_BOUND):
        try:
            while await reader.read(65536):
                pass
        except ConnectionResetError:
            pass
    return True


async def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        return await _answer(reader)
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def _served(settings: Settings, limits: EdgeLimits | None = None) -> AsyncIterator[int]:
    async with serving(create_app(settings), limits) as base:
        yield int(base.rsplit(":", 1)[1])


# -- bounded heads ------------------------------------------------------------------------------


HEADS = [
    pytest.param(
        _post(extra=b"".join(b"X-H%d: v\r\n" % i for i in range(101))),
        431,
        "more than 100 headers",
        id="header-count",
    ),
    pytest.param(_post(extra=b"X-Big: " + b"v" * 17_000 + b"\r\n"), 431, "head", id="header-value"),
    pytest.param(_post(target="/api/messages?" + "q" * 3000), 414, "target", id="target"),
]


@pytest.mark.parametrize(("request_bytes", "status", "needle"), HEADS)
async def test_oversized_heads_are_refused_with_a_json_error_and_write_nothing(
    settings: Settings,
    redis: Redis,
    keys: Keyspace,
    request_bytes: bytes,
    status: int,
    needle: str,
) -> None:
    async with _served(settings) as port:
        answer, headers, body = await _exchange(port, request_bytes)
    assert answer == status
    assert headers["connection"] == "close"
    assert needle in body["message"]
    assert await stream_lengths(redis, keys) == 0


async def test_a_real_channel_head_fits_and_a_head_split_across_reads_is_counted_whole(
    settings: Settings, keys: Keyspace, redis: Redis
) -> None:
    token = b"Authorization: Bearer " + b"t" * 3000 + b"\r\n"  # a channel JWT is ~1-2 KB
    limits = EdgeLimits(max_header_bytes=4096)
    async with _served(settings, limits) as port:
        status, _, _ = await _exchange(port, _post(extra=token))
        # The same head sent a few bytes at a time, then one more header past the bound.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = _post(extra=token + b"X-More: " + b"m" * 1200 + b"\r\n")
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(request), 500):
                writer.write(request[start : start + 500])
                await writer.drain()
        refused, _, body = await _answer(reader)
        writer.close()
    assert (status, refused) == (202, 431)
    assert "larger than 4096" in body["message"]
    assert await stream_lengths(redis, keys) == 1


async def test_each_request_on_a_keep_alive_connection_has_a_head_bound_of_its_own(
    settings: Settings,
) -> None:
    """Twenty heads of 1 KiB, 20 KiB in all, one connection, a 16 KiB bound: all answered."""
    request = b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Pad: " + b"p" * 1000 + b"\r\n\r\n"
    async with _served(settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        statuses = []
        for _ in range(20):
            writer.write(request)
            statuses.append((await _answer(reader))[0])
        writer.close()
    assert statuses == [200] * 20


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(b"\x00\x01 not HTTP at all\r\n\r\n", id="garbage"),
        pytest.param(b"POST /api/messages HTTP/1.1\r\nX-Big: " + b"b" * 20_000, id="huge-head"),
        pytest.param(_post(target="/" + "t" * 3000), id="long-target"),
    ],
)
async def test_a_whole_request_followed_by_a_refused_one_keeps_its_own_answer(
    settings: Settings, keys: Keyspace, redis: Redis, after: bytes
) -> None:
    """uvicorn answered the garbage with 400 while the request before it was being queued. (A
    head that passes the bound in the read that ends the request before it is seen at the next
    read or at the head timeout, set short here.)"""
    async with _served(settings, EdgeLimits(header_timeout=1)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_post() + after)
        status, _, _ = await _answer(reader)
        closed = await _closed(reader)
        writer.close()
    assert (status, closed) == (202, True)
    assert await stream_lengths(redis, keys) == 1


async def test_past_the_connection_cap_a_new_connection_is_told_to_come_back(
    settings: Settings,
) -> None:
    limits = EdgeLimits(max_connections=16)
    async with _served(settings, limits) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(16)]
        # The 16 are surely accepted once each has been answered once (and kept alive).
        for reader, writer in held:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")
            assert (await _answer(reader))[0] == 200
        status, headers, body = await _exchange(port, _post())
        for _, writer in held[:4]:
            writer.close()
        for reader, _ in held[:4]:
            await _closed(reader)
        # Freed slots are counted as freed once the server saw the close: wait for that event.
        for _ in range(200):
            again, _, _ = await _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n")
            if again == 200:
                break
            await asyncio.sleep(0.05)
        for _, writer in held[4:]:
            writer.close()
    assert (status, body["error"], headers["retry-after"]) == (503, "overloaded", "1")
    assert again == 200


# -- a real gateway process: memory and time ----------------------------------------------------


@contextlib.asynccontextmanager
async def _gateway_process(settings: Settings, **env: str) -> AsyncIterator[tuple[int, int]]:
    """`python -m gateway` on a free port; yields (pid, port) once /healthz answers."""
    port = free_port()
    environ = {
        **os.environ,
        "REDIS_URL": settings.redis_url or "",
        "TURNSTREAM_KEY_PREFIX": settings.key_prefix,
        "TURNSTREAM_SHARDS": str(settings.shards),
        "TURNSTREAM_LOG_LEVEL": "ERROR",
        **env,
    }
    environ.pop("MicrosoftAppId", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "--port", str(port), env=environ
    )
    try:
        async with asyncio.timeout(60):
            while True:
                with contextlib.suppress(OSError):
                    status, _, _ = await _exchange(
                        port, b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n"
                    )
                    if status == 200:
                        break
                assert process.returncode is None, "the gateway exited"
                await asyncio.sleep(0.1)
        yield process.pid, port
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


FLOOD_BYTES = 24 * 1024 * 1024
SMALL_HEADERS = b"".join(b"X-Flood-%06d: %s\r\n" % (i, b"f" * 40) for i in range(1000))
ONE_VALUE = b"f" * 64 * 1024


@pytest.mark.parametrize(
    ("opening", "chunk"),
    [
        pytest.param(b"", SMALL_HEADERS, id="small-headers"),
        pytest.param(b"X-Endless: ", ONE_VALUE, id="one-endless-value"),
    ],
)
async def test_a_header_flood_leaves_the_gateway_process_within_a_few_mib(
    settings: Settings, opening: bytes, chunk: bytes
) -> None:
    """Issue 19, finding 1: 24 MiB of headers grew a gateway's RSS by 216 MiB."""
    async with _gateway_process(settings) as (pid, port):
        for _ in range(3):  # warm: the first requests allocate what every request reuses
            assert (await _exchange(port, _post()))[0] == 202
        before = _rss_bytes(pid)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sent = 0
        with contextlib.suppress(ConnectionError):
            writer.write(b"POST /api/messages HTTP/1.1\r\nHost: g\r\n" + opening)
            while sent < FLOOD_BYTES:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
        with contextlib.suppress(ConnectionError):
            await _closed(reader)
        writer.close()
        after = _rss_bytes(pid)
        assert (await _exchange(port, _post()))[0] == 202  # and it still serves
    assert after - before < 8 * 1024 * 1024, f"RSS grew {(after - before) / 2**20:.1f} MiB"


async def _trickle(writer: asyncio.StreamWriter, data: bytes, stop: asyncio.Event) -> None:
    """Send `data` a byte at a time, every 0.2 s, until told to stop or the server closes."""
    with contextlib.suppress(ConnectionError):
        for byte in data:
            if stop.is_set():
                return
            writer.write(bytes([byte]))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.2):
                    await stop.wait()


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (bounded by READ_BOUND)."""
    received = b""
    async with asyncio.timeout(READ_BOUND):
        with contextlib.suppress(ConnectionResetError):
            while chunk := await reader.read(65536):
                received += chunk
    return received


async def test_idle_and_trickling_connections_are_closed_and_others_are_served(
    settings: Settings,
) -> None:
    """Issue 19, finding 2: 300 trickling connections stayed open, and silent ones forever.
    1,000 connections: silent, trickling a head, trickling a body, idle after an answer. Each is
    closed by the gateway; a head or body that reached it is answered 408 first. (A connection
    whose first bytes the gateway had not read when its head timeout ran out, on a machine too
    busy to read them in 2 s, is closed without an answer: also right, so also accepted.)"""
    each = 250
    body = _post()
    split = body.index(b"\r\n\r\n") + 4
    head = body[: split - 2]  # all but the head's last line break
    health = b"GET /healthz HTTP/1.1\r\nHost: g\r\n\r\n"
    async with _gateway_process(
        settings,
        TURNSTREAM_HEADER_TIMEOUT_SECONDS="2",
        TURNSTREAM_BODY_TIMEOUT_SECONDS="2",
        TURNSTREAM_KEEPALIVE_SECONDS="2",
        TURNSTREAM_MAX_CONNECTIONS="2000",
    ) as (_, port):
        groups: dict[str, list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        for name, first in (("silent", b""), ("heads", head[:1]), ("bodies", body[:split])):
            groups[name] = []
            for _ in range(each):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(first)  # at once: the head timeout runs from the connection's start
                groups[name].append((reader, writer))
        groups["idle"] = []
        for _ in range(each):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(health)
            groups["idle"].append((reader, writer))
        stop = asyncio.Event()
        trickles = [
            *(asyncio.create_task(_trickle(w, head[1:], stop)) for _, w in groups["heads"]),
            *(asyncio.create_task(_trickle(w, body[split:], stop)) for _, w in groups["bodies"]),
        ]
        # Others keep being served while all 1,000 are held open.
        served = [(await _exchange(port, _post()))[0] for _ in range(5)]
        received = {
            name: [await _until_closed(reader) for reader, _ in connections]
            for name, connections in groups.items()
        }
        stop.set()
        await asyncio.gather(*trickles)
        for connections in groups.values():
            for _, writer in connections:
                writer.close()
    assert served == [202] * 5
    assert set(received["silent"]) == {b""}
    for name in ("heads", "bodies"):
        answered = [r for r in received[name] if r]
        assert answered, f"no {name} connection was answered 408"
        assert all(r.startswith(b"HTTP/1.1 408 ") for r in answered)
        assert all(b'"error":"request_timeout"' in r for r in answered)
    assert all(r.startswith(b"HTTP/1.1 200 ") for r in received["idle"] if r)
