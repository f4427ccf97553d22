"""Exactly one reply per command (issue 19, finding 4): a server that sends more, part of one
more, or bytes while the connection is idle fails the batch with `RespError`, and the pool never
sends on that connection again. A scripted server on loopback for the cases, and hypothesis for
any bytes at all against one connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import hiredis
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from shared.redis.resp import Endpoint, RespConnection, RespError, RespPool


@asynccontextmanager
async def scripted_server(
    answers: list[bytes],
) -> AsyncIterator[tuple[int, list[asyncio.StreamWriter]]]:
    """A RESP server answering each command it reads with the next of `answers` (PONG when they
    run out); yields its port and the server's side of each connection it accepted."""
    accepted: list[asyncio.StreamWriter] = []
    pending = list(answers)

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while parser.gets() is not False:
                    writer.write(pending.pop(0) if pending else b"+PONG\r\n")
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], accepted
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def scripted(
    answers: list[bytes],
) -> AsyncIterator[tuple[RespPool, list[asyncio.StreamWriter]]]:
    """`scripted_server`, and a pool of one connection on it."""
    async with scripted_server(answers) as (port, accepted):
        pool = RespPool(Endpoint("127.0.0.1", port), max_connections=1)
        try:
            yield pool, accepted
        finally:
            await pool.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"+PONG\r\n+EXTRA\r\n", id="one-more-reply"),
        pytest.param(b"+PONG\r\n+EXT", id="part-of-one-more"),
        pytest.param(b"+PONG\r\n*2\r\n+a\r\n", id="half-an-array-more"),
        pytest.param(b"+PONG\r\n$5\r\nab", id="half-a-bulk-more"),
    ],
)
async def test_more_than_one_reply_per_command_fails_the_batch_and_the_connection(
    answer: bytes,
) -> None:
    async with scripted([answer]) as (pool, accepted):
        with pytest.raises(RespError, match="more than 1 replies"):
            await pool.execute([("PING",)])
        assert await pool.execute([("PING",)]) == [b"PONG"]
    assert len(accepted) == 2


async def test_bytes_sent_to_an_idle_connection_retire_it() -> None:
    """Before: a stale reply waited on the pooled connection and answered the next batch."""
    async with scripted([]) as (pool, accepted):
        assert await pool.execute([("PING",)]) == [b"PONG"]
        (idle,) = pool._idle
        accepted[0].write(b"+STALE\r\n")
        for _ in range(1000):  # until the stale reply has reached the client: an event
            if not idle.usable:
                break
            await asyncio.sleep(0.01)
        assert await pool.execute([("PING",)]) == [b"PONG"]  # not "STALE"
    assert len(accepted) == 2


class _Sink:
    """The writer side of a connection whose replies are given up front."""

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


REPLIES = st.one_of(
    st.builds(
        lambda s: b"+%s\r\n" % s,
        st.binary(max_size=8).filter(lambda b: b"\r" not in b and b"\n" not in b),
    ),
    st.builds(lambda n: b":%d\r\n" % n, st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda b: b"$%d\r\n%s\r\n" % (len(b), b), st.binary(max_size=16)),
    st.builds(lambda n: b"*%d\r\n" % n, st.integers(-1, 3)),
    st.just(b"-ERR nope\r\n"),
    st.just(b"$-1\r\n"),
    st.binary(max_size=12),
)

ANY_BYTES_EXAMPLES = settings(
    max_examples=300,
    derandomize=True,  # the same examples every run: never a flaky failure
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""How the any-bytes properties of both RESP clients are explored."""


@ANY_BYTES_EXAMPLES
@given(
    commands=st.integers(1, 4),
    pieces=st.lists(REPLIES, max_size=12),
    cut=st.integers(1, 64),
)
def test_any_bytes_give_one_reply_per_command_or_resp_error(
    commands: int, pieces: list[bytes], cut: int
) -> None:
    stream = b"".join(pieces)

    async def run() -> list[object] | BaseException:
        reader = asyncio.StreamReader()
        for start in range(0, len(stream), cut):
            reader.feed_data(stream[start : start + cut])
        reader.feed_eof()
        connection = RespConnection(reader, _Sink())  # type: ignore[arg-type]
        try:
            return await connection.execute([("PING",)] * commands)
        except (RespError, ConnectionError) as e:
            return e

    outcome = asyncio.run(run())
    if isinstance(outcome, BaseException):
        return
    assert len(outcome) == commands
    # A success means the bytes were exactly `commands` replies: parsing them alone agrees.
    # followed by a reply of its own, which then parses alone.
    parser = hiredis.Reader()
    parser.feed(stream + b":7\r\n")
    parsed = []
    while (reply := parser.gets()) is not False:
        parsed.append(reply)
    assert parsed[commands:] == [7]
