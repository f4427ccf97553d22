"""The keep-alive HTTP client against real loopback servers written byte by byte, so each test
controls exactly what goes over the connection."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import trustme
import uvloop

from shared.schema.activity import ResourceResponse
from tests.support.http import serving
from tests.support.recording_connector import RecordingConnector
from worker.connector.client import ConnectorClient
from worker.connector.errors import ForbiddenServiceUrl
from worker.connector.keepalive_http import CannotConnect, HttpConnectionError, KeepAliveHttp
from worker.connector.safe_resolver import PrivateAddressRefused
from worker.connector.service_urls import OutboundPolicy

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@asynccontextmanager
async def raw_server(
    handler: Handler, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[int]]]:
    """A server on 127.0.0.1 running `handler` per connection; yields its port and a list that
    gets one entry per accepted connection."""
    accepted: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, accepted
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and body (Content-Length framed, as the client always sends)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def answering(*answers: bytes) -> Handler:
    """Answer the requests of each connection with `answers` in turn, then wait for the client
    to hang up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await read_request(reader)
            writer.write(answer)
            await writer.drain()
        await reader.read()

    return handler


def client(**options: object) -> KeepAliveHttp:
    return KeepAliveHttp(timeout_seconds=options.pop("timeout", 5), allow_private=True, **options)  # type: ignore[arg-type]


async def post(http: KeepAliveHttp, port: int, body: bytes = b"{}") -> tuple[int, bytes]:
    status, payload, _ = await http.request(
        "POST", "http", "127.0.0.1", port, "/v3/x", {"Content-Type": "application/json"}, body
    )
    return status, payload


async def test_requests_reuse_one_connection() -> None:
    http = client()
    async with raw_server(answering(OK, OK, OK)) as (port, accepted):
        answers = [await post(http, port) for _ in range(3)]
    await http.aclose()
    assert answers == [(200, b"ok")] * 3
    assert len(accepted) == 1


async def test_a_chunked_answer_is_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Thing: a\r\n\r\n"
        b'5\r\n{"id"\r\n8\r\n: "a-1"}\r\n0\r\n\r\n'
    )
    http = client()
    async with raw_server(answering(chunked, OK)) as (port, accepted):
        status, body, headers = await http.request("GET", "http", "127.0.0.1", port, "/", {}, None)
        assert await post(http, port) == (200, b"ok")  # and the connection is still good
    await http.aclose()
    assert (status, body, headers["x-thing"]) == (201, b'{"id": "a-1"}', "a")
    assert len(accepted) == 1


async def test_connection_close_is_honoured() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    http = client()
    async with raw_server(answering(closing, OK)) as (port, accepted):
        assert await post(http, port) == (200, b"ok")
        assert await post(http, port) == (200, b"ok")
    await http.aclose()
    assert len(accepted) == 2


async def test_a_body_ending_with_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
        await writer.drain()

    http = client()
    async with raw_server(handler) as (port, accepted):
        assert await post(http, port) == (200, b"until the end")
        assert await post(http, port) == (200, b"until the end")
    await http.aclose()
    assert len(accepted) == 2


async def test_a_server_dropping_the_connection_mid_answer_fails_the_request() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        await writer.drain()

    http = client()
    async with raw_server(handler) as (port, _accepted):
        with pytest.raises(HttpConnectionError, match="closed before the answer ended"):
            await post(http, port)
    await http.aclose()


async def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()  # then hang up: keep-alive timeout on the server's side

    http = client()
    async with raw_server(handler) as (port, accepted):
        assert await post(http, port) == (200, b"ok")
        await asyncio.sleep(0.1)  # the close reaches the client
        assert await post(http, port) == (200, b"ok")
    await http.aclose()
    assert len(accepted) == 2


async def test_a_malformed_answer_closes_the_connection() -> None:
    garbage = [b"NONSENSE\r\n\r\n"]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await answering(garbage.pop() if garbage else OK)(reader, writer)

    http = client()
    async with raw_server(handler) as (port, accepted):
        with pytest.raises(HttpConnectionError, match="malformed"):
            await post(http, port)
        assert await post(http, port) == (200, b"ok")
    await http.aclose()
    assert len(accepted) == 2


async def test_a_slow_server_hits_the_timeout_and_its_connection_is_dropped() -> None:
    late = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if not late.is_set():
            late.set()
            await asyncio.sleep(1)  # answers after the client gave up
        writer.write(OK)
        await writer.drain()
        await reader.read()

    http = client(timeout=0.3)
    async with raw_server(handler) as (port, accepted):
        with pytest.raises(TimeoutError):
            await post(http, port)
        assert await post(http, port) == (200, b"ok")  # on a new connection, not the late answer
    await http.aclose()
    assert len(accepted) == 2


async def test_a_redirect_is_an_answer_not_followed() -> None:
    moved = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\nContent-Length: 0\r\n\r\n"
    http = client()
    async with raw_server(answering(moved)) as (port, accepted):
        status, body, headers = await http.request("GET", "http", "127.0.0.1", port, "/", {}, None)
    await http.aclose()
    assert (status, body, headers["location"]) == (302, b"", "http://127.0.0.1:9/")
    assert len(accepted) == 1


async def test_the_request_goes_out_as_given() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(OK)
        await writer.drain()
        await reader.read()

    http = client()
    async with raw_server(handler) as (port, _accepted):
        await http.request(
            "POST", "http", "127.0.0.1", port, "/v3/a%3Ab", {"Authorization": "Bearer t"}, b"{}"
        )
        with pytest.raises(ValueError, match="line break"):
            await http.request(
                "GET", "http", "127.0.0.1", port, "/", {"X": "a\r\nHost: evil"}, None
            )
    await http.aclose()
    head, body = seen[0]
    assert head.startswith(b"POST /v3/a%3Ab HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: turnstream\r\n".encode() in head
    assert b"\r\nAuthorization: Bearer t\r\n" in head and body == b"{}"


async def test_an_unreachable_server_is_cannot_connect() -> None:
    async with raw_server(answering()) as (port, _accepted):
        pass  # the port is free again: nothing listens on it
    http = client()
    with pytest.raises(CannotConnect, match=f"cannot connect to 127.0.0.1:{port}"):
        await post(http, port)
    await http.aclose()


def test_it_runs_on_uvloop_too() -> None:
    # `turnstream dev` and anyone embedding the worker may run it on uvloop, whose transports
    # are not asyncio.Transport subclasses.
    async def exchange() -> list[tuple[int, bytes]]:
        http = client()
        async with raw_server(answering(OK, OK)) as (port, _accepted):
            answers = [await post(http, port), await post(http, port)]
        await http.aclose()
        return answers

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(exchange()) == [(200, b"ok")] * 2


async def test_idle_connections_are_reaped() -> None:
    http = client(idle_seconds=0.2)
    async with raw_server(answering(OK, OK)) as (port, accepted):
        assert await post(http, port) == (200, b"ok")
        await asyncio.sleep(0.5)  # the reaper closed it: the server sees the hang-up
        assert await post(http, port) == (200, b"ok")
    await http.aclose()
    assert len(accepted) == 2


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


async def test_https_verifies_the_certificate_and_sends_sni(
    certificate_authority: trustme.CA,
) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("connector.test").configure_cert(server_context)
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    trusting = ssl.create_default_context()
    certificate_authority.configure_trust(trusting)

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    http = KeepAliveHttp(
        timeout_seconds=5, allow_private=True, ssl_context=trusting, resolve=loopback
    )
    untrusting = KeepAliveHttp(timeout_seconds=5, allow_private=True, resolve=loopback)
    async with raw_server(answering(OK, OK), server_context) as (port, _accepted):
        status, body, _ = await http.request(
            "POST", "https", "connector.test", port, "/", {}, b"{}"
        )
        with pytest.raises(CannotConnect, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.request("POST", "https", "connector.test", port, "/", {}, b"{}")
    await http.aclose()
    await untrusting.aclose()
    assert (status, body) == (200, b"ok")
    assert names[0] == "connector.test"


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    async def private(host: str, port: int) -> list[str]:
        return ["20.190.128.1", "10.0.0.7"]  # one private address refuses the whole name

    http = KeepAliveHttp(timeout_seconds=5, resolve=private)
    with pytest.raises(PrivateAddressRefused, match="non-public address"):
        await http.request("POST", "https", "connector.test", 443, "/", {}, b"{}")
    await http.aclose()


async def test_the_connector_client_refuses_a_name_resolving_to_loopback() -> None:
    recording = RecordingConnector()

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    http = KeepAliveHttp(timeout_seconds=5, resolve=loopback)
    connector = ConnectorClient(None, _NoToken(), OutboundPolicy(["connector.test"]), http=http)
    async with serving(recording.app) as url:
        port = url.rsplit(":", 1)[1]
        with pytest.raises(ForbiddenServiceUrl, match="non-public address"):
            await connector.send_to_conversation(f"http://connector.test:{port}", "c", {"x": 1})
    await connector.aclose()
    assert recording.requests == []


async def test_the_connector_client_over_the_new_transport() -> None:
    recording = RecordingConnector()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(recording.app) as url:
        replies = [
            await connector.send_to_conversation(url, "a:b;c@d", {"text": str(n)}) for n in range(3)
        ]
    await connector.aclose()
    assert all(isinstance(reply, ResourceResponse) for reply in replies)
    assert [r.raw_path for r in recording.requests] == [
        "/v3/conversations/a%3Ab%3Bc%40d/activities"
    ] * 3


class _NoToken:
    async def authorization(self, service_url: str) -> str | None:
        return None
