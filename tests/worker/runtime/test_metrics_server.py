"""The worker's metrics endpoint on a real socket: what it answers, and to what it says no."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from shared.telemetry.metrics import CONTENT_TYPE
from worker.runtime.metrics_server import MetricsServer


@pytest.fixture
async def served() -> AsyncIterator[tuple[MetricsServer, list[bool]]]:
    registry = CollectorRegistry()
    Counter("turns", "turns run", registry=registry).inc(3)
    healthy = [True]
    server = MetricsServer(registry, lambda: healthy[0], "127.0.0.1", 0)
    await server.start()
    yield server, healthy
    await server.stop()


async def ask(server: MetricsServer, request: bytes) -> tuple[int, bytes, bytes]:
    """Status, head and body of the answer to a raw request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request)
    answer = await reader.read()  # the server closes the connection after one answer
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


async def test_metrics_and_health(served: tuple[MetricsServer, list[bool]]) -> None:
    server, healthy = served
    status, head, body = await ask(server, b"GET /metrics HTTP/1.1\r\nHost: w\r\n\r\n")
    assert status == 200 and b"turns_total 3.0" in body
    assert b"Content-Type: " + CONTENT_TYPE.encode() in head
    assert b"Content-Length: %d" % len(body) in head
    assert await ask(server, b"GET /healthz HTTP/1.1\r\n\r\n") == (
        200,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
        b"Connection: close",
        b'{"status":"ok"}',
    )
    healthy[0] = False
    status, _, body = await ask(server, b"GET /healthz?probe=1 HTTP/1.0\r\n\r\n")
    assert (status, body) == (503, b'{"status":"stopping"}')


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /other HTTP/1.1\r\n\r\n", 404),
        (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (b"hello\r\n\r\n", 400),
        (b"GET /metrics SPDY/3\r\n\r\n", 400),
    ],
)
async def test_what_it_refuses(
    served: tuple[MetricsServer, list[bool]], request_bytes: bytes, status: int
) -> None:
    server, _ = served
    assert (await ask(server, request_bytes))[0] == status


async def test_a_head_too_long_gets_no_answer_and_the_server_goes_on(
    served: tuple[MetricsServer, list[bool]],
) -> None:
    server, _ = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n")
    try:
        answer = await reader.read()
    except ConnectionResetError:  # closed with the rest of the head unread: a reset
        answer = b""
    assert answer == b""  # closed unanswered
    writer.close()
    assert (await ask(server, b"GET /healthz HTTP/1.1\r\n\r\n"))[0] == 200
