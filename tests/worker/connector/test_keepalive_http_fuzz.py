"""Any bytes at all as the answer to one request (issue 19): the keep-alive client's parser
never lets an exception escape into the event loop, always settles the request (an answer or an
`HttpConnectionError`), never returns more than its bounds, and never offers a connection for
reuse that has bytes left after its answer. One connection and a stand-in transport, no
sockets: hypothesis runs a fixed set of examples in well under a second per hundred."""

from __future__ import annotations

import asyncio

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from worker.connector.keepalive_http import (
    MAX_HEADERS,
    HttpConnectionError,
    _Connection,
)

MAX_BODY = 64


class _Transport:
    """Where the request goes: nowhere. Closing is what the tests look at."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


TOKEN = st.text(alphabet="abcXYZ-", min_size=1, max_size=6)
HEAD_LINES = st.one_of(
    st.builds(lambda n: f"Content-Length: {n}\r\n", st.integers(0, 200)),
    st.just("Transfer-Encoding: chunked\r\n"),
    st.just("Connection: close\r\n"),
    st.just("Connection: keep-alive\r\n"),
    st.just("Upgrade: websocket\r\n"),
    st.builds(lambda name, value: f"{name}: {value}\r\n", TOKEN, TOKEN),
)
STATUS = st.sampled_from([100, 101, 103, 200, 201, 204, 304, 400, 429, 500, 502])
ANSWER = st.builds(
    lambda version, status, lines, body: (
        f"HTTP/{version} {status} X\r\n{''.join(lines)}\r\n".encode() + body
    ),
    st.sampled_from(["1.1", "1.0"]),
    STATUS,
    st.lists(HEAD_LINES, max_size=4),
    st.one_of(
        st.binary(max_size=120),
        st.builds(lambda n: b"%x\r\n%s\r\n0\r\n\r\n" % (n, b"c" * n), st.integers(0, 90)),
    ),
)
STREAM = st.lists(st.one_of(ANSWER, st.binary(max_size=40)), min_size=1, max_size=4).map(b"".join)


@settings(
    max_examples=500,
    derandomize=True,  # the same examples every run: never a flaky failure
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(stream=STREAM, cut=st.integers(1, 97), closes=st.booleans())
def test_any_answer_settles_the_request_within_the_bounds(
    stream: bytes, cut: int, closes: bool
) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        connection = _Connection()
        transport = _Transport()
        connection.connection_made(transport)  # type: ignore[arg-type]
        waiter = connection.send(b"GET / HTTP/1.1\r\n\r\n", loop.time() + 60, MAX_BODY)
        for start in range(0, len(stream), cut):
            connection.data_received(stream[start : start + cut])  # raises: a bug
        if closes or not waiter.done():
            connection.connection_lost(None)
        assert waiter.done()
        problem = waiter.exception()
        if problem is not None:
            assert isinstance(problem, HttpConnectionError), repr(problem)
            assert connection.closed
            return
        status, body, headers = waiter.result()
        assert 200 <= status <= 599
        assert len(body) <= MAX_BODY
        assert len(headers) <= MAX_HEADERS
        if connection.reusable:
            # Offered for reuse only if this answer was all there was.
            assert not transport.closed
            leftover = _leftover(stream, status, body)
            assert leftover is not None and not leftover.strip(b"\r\n"), leftover

    asyncio.run(run())


def _leftover(stream: bytes, status: int, body: bytes) -> bytes | None:
    """What follows the final answer in `stream`, found independently of the client's parser:
    after the last head with this status whose body is `body` (None if not found)."""
    marker = b" %d " % status
    at = stream.rfind(marker)
    while at >= 0:
        head_end = stream.find(b"\r\n\r\n", at)
        if head_end >= 0:
            rest = stream[head_end + 4 :]
            if rest.startswith(body):
                return rest[len(body) :]
            chunked_end = rest.find(b"0\r\n\r\n")
            if chunked_end >= 0:
                return rest[chunked_end + 5 :]
        at = stream.rfind(marker, 0, at)
    return None
