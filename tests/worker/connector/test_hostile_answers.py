"""A service URL that answers without end, or with bytes nobody asked for (issue 19, findings 3
and 4): the keep-alive client costs at most its bounds and fails with `AnswerRefused`, and the
connector client turns that into a `ConnectorError` the turn's retry policy decides on."""

from __future__ import annotations

import asyncio
import logging
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import pytest

from tests.worker.connector.test_keepalive_http import (
    OK,
    Handler,
    answering,
    client,
    post,
    raw_server,
    read_request,
)
from worker.bot.errors import is_transient
from worker.connector.client import BAD_ANSWER_STATUS, ConnectorClient
from worker.connector.errors import ConnectorError
from worker.connector.keepalive_http import MAX_HEAD_BYTES, AnswerRefused
from worker.connector.service_urls import OutboundPolicy
from worker.runtime.metrics import WorkerMetrics
from worker.runtime.outbound_observer import OutboundObserver

MIB = 1024 * 1024
FLOOD = 128 * MIB


def endless(head: bytes, piece: bytes, total: int = FLOOD) -> Handler:
    """Answer the first request with `head`, then `piece` over and over, up to `total` bytes or
    until the client hangs up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(head)
        sent = 0
        while sent < total:
            writer.write(piece)
            await writer.drain()
            sent += len(piece)

    return handler


@contextmanager
def peak_allocated() -> Iterator[list[int]]:
    """The peak of Python allocations inside the block (bytes), in a one-item list."""
    tracemalloc.start()
    peak = [0]
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


FLOODS = [
    pytest.param(
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % FLOOD, b"x" * MIB, id="declared-body"
    ),
    pytest.param(b"HTTP/1.1 200 OK\r\n\r\n", b"x" * MIB, id="body-until-close"),
    pytest.param(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"100000\r\n" + b"x" * MIB + b"\r\n",
        id="chunked-body",
    ),
    pytest.param(
        b"HTTP/1.1 200 OK\r\n",
        b"".join(b"X-Many-%05d: %s\r\n" % (i, b"h" * 100) for i in range(8000)),
        id="small-headers",
    ),
    pytest.param(b"HTTP/1.1 200 OK\r\nX-Endless: ", b"h" * MIB, id="one-endless-header"),
]


@pytest.mark.parametrize(("head", "piece"), FLOODS)
async def test_an_answer_without_end_costs_at_most_the_bound(head: bytes, piece: bytes) -> None:
    """Before: a 128 MiB body added 253 MiB to the worker, 32 MB of headers 557 MiB."""
    bound = 256 * 1024
    http = client(timeout=30)
    async with raw_server(endless(head, piece)) as (port, _):
        with peak_allocated() as peak, pytest.raises(AnswerRefused):
            await http.request("GET", "http", "127.0.0.1", port, "/", {}, None, max_body=bound)
    await http.aclose()
    # The bound, the largest read (256 KiB) and the parser's own: nowhere near the flood.
    assert peak[0] < 4 * MIB, f"peak {peak[0] / MIB:.1f} MiB"


async def test_more_headers_than_allowed_are_refused() -> None:
    many = b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 101 + b"Content-Length: 2\r\n\r\nok"
    http = client()
    async with raw_server(answering(many)) as (port, _):
        with pytest.raises(AnswerRefused, match="more than 100 headers"):
            await post(http, port)
    await http.aclose()


async def test_a_head_just_within_the_bound_is_read() -> None:
    filler = b"X-Filler: " + b"f" * (MAX_HEAD_BYTES - 200) + b"\r\n"
    near = b"HTTP/1.1 200 OK\r\n" + filler + b"Content-Length: 2\r\n\r\nok"
    http = client()
    async with raw_server(answering(near)) as (port, _):
        assert await post(http, port) == (200, b"ok")
    await http.aclose()


@pytest.mark.parametrize(
    "injected",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n", id="a-head"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nfor", id="half-a-body"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnot", id="a-whole-answer"),
        pytest.param(b"HTTP/1.1 2", id="a-status-line"),
    ],
)
async def test_bytes_after_an_answer_never_answer_the_next_request(injected: bytes) -> None:
    """Before: a partial answer after the first, in the same packet, answered the next request
    on that connection."""
    http = client()
    async with raw_server(answering(OK + injected, OK, OK)) as (port, accepted):
        answers = [await post(http, port) for _ in range(2)]
    await http.aclose()
    assert answers == [(200, b"ok")] * 2
    assert len(accepted) == 2  # the first connection was not reused


async def test_interim_answers_are_skipped() -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    http = client()
    async with raw_server(answering(interim + OK, OK)) as (port, accepted):
        answers = [await post(http, port) for _ in range(2)]
    await http.aclose()
    assert answers == [(200, b"ok")] * 2
    assert len(accepted) == 1


async def test_switching_protocols_is_refused() -> None:
    upgrade = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )
    first = [upgrade]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answering(first.pop() if first else OK)(reader, writer)

    http = client()
    async with raw_server(handler) as (port, accepted):
        with pytest.raises(AnswerRefused, match="switched protocols"):
            await post(http, port)
        assert await post(http, port) == (200, b"ok")
    await http.aclose()
    assert len(accepted) == 2


def _connector() -> ConnectorClient:
    return ConnectorClient.create(
        timeout_seconds=10,
        policy=OutboundPolicy(allow_private=True),
        max_answer_bytes=4096,
        max_large_answer_bytes=256 * 1024,
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", id="upgrade"),
        pytest.param(
            b"HTTP/1.1 201 Created\r\nContent-Length: 10000\r\n\r\n" + b"x" * 10000, id="too-large"
        ),
        pytest.param(b"NOT HTTP\r\n\r\n", id="garbage"),
    ],
)
async def test_a_hostile_answer_is_a_transient_connector_error_and_is_logged(
    answer: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    connector = _connector()
    async with raw_server(answering(answer)) as (port, accepted):
        with caplog.at_level(logging.WARNING), pytest.raises(ConnectorError) as refused:
            await connector.send_to_conversation(f"http://127.0.0.1:{port}", "c", {"text": "x"})
    await connector.aclose()
    assert refused.value.status == BAD_ANSWER_STATUS
    assert is_transient(refused.value)  # the turn's retry policy decides: later, or dead letters
    assert len(accepted) == 1  # a POST the service answered is not sent again here
    assert "refused the answer" in caplog.text


async def test_a_refused_answer_is_counted_apart_from_no_answer() -> None:
    metrics = WorkerMetrics()
    connector = ConnectorClient.create(
        timeout_seconds=10,
        policy=OutboundPolicy(allow_private=True),
        observer=OutboundObserver(metrics),
        max_answer_bytes=4096,
    )
    upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"
    async with raw_server(answering(upgrade)) as (port, _):
        with pytest.raises(ConnectorError):
            await connector.send_to_conversation(f"http://127.0.0.1:{port}", "c", {"text": "x"})
    await connector.aclose()
    counted = metrics.registry.get_sample_value(
        "turnstream_worker_connector_requests_total", {"method": "POST", "status": "refused"}
    )
    assert counted == 1


async def test_reads_get_the_larger_bound() -> None:
    members = orjson.dumps([{"id": f"user-{n:06d}", "name": "x" * 80} for n in range(1000)])
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(members) + members
    connector = _connector()
    async with raw_server(answering(answer)) as (port, _):
        listed = await connector.get_conversation_members(f"http://127.0.0.1:{port}", "c")
    await connector.aclose()
    assert len(members) > 4096 and len(listed) == 1000
