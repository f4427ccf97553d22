"""The worker's pipelined RESP connection against real servers: one write for the batches of a
loop iteration, replies handed back by count, a cancelled batch costing nothing, a server that
stops answering retiring the connection in bounded time; and, for any bytes at all, every batch
gets exactly its own replies or an error."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hiredis
import hypothesis.strategies as st
import pytest
from hypothesis import given

from shared.redis.resp import Endpoint, ReplyError, RespError, RespPool
from shared.redis.resp_pipeline import PipelinedRespPool, _Connection
from tests.shared.redis.test_resp_replies import ANY_BYTES_EXAMPLES, REPLIES, scripted_server
from tests.support.tls import tls_proxy
from turnstream.embedded import EmbeddedRedis, free_port

TIMEOUT = 0.3


@pytest.fixture
def server() -> Iterator[EmbeddedRedis]:
    """A server of its own; a test may stop it with `_freeze`."""
    with EmbeddedRedis(appendonly=False) as redis:
        yield redis
        _freeze(redis, False)  # a test that failed half-way left it stopped


def _freeze(server: EmbeddedRedis, stopped: bool) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP if stopped else signal.SIGCONT)


async def _reads_processed(pool: PipelinedRespPool) -> int:
    (info,) = await pool.execute([("INFO", "stats")])
    for line in info.decode().splitlines():
        if line.startswith("total_reads_processed:"):
            return int(line.split(":")[1])
    raise AssertionError("INFO stats has no total_reads_processed")


async def test_the_batches_of_one_iteration_go_out_in_one_write(redis_url: str) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(redis_url), timeout_seconds=TIMEOUT)
    before = await _reads_processed(pool)
    replies = await asyncio.gather(
        *(pool.execute([("ECHO", f"{i}-a"), ("ECHO", f"{i}-b")]) for i in range(50))
    )
    after = await _reads_processed(pool)
    assert replies == [[f"{i}-a".encode(), f"{i}-b".encode()] for i in range(50)]
    # The server read 50 batches (100 commands) at once: one read, and one for the INFO after
    # (a slow loopback may split a write; 50 separate writes would be 50 reads or more).
    assert after - before <= 4, after - before
    await pool.aclose()


async def test_one_connection_carries_every_batch(redis_url: str) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(redis_url), timeout_seconds=TIMEOUT)
    replies = await asyncio.gather(*(pool.execute([("CLIENT", "ID")]) for _ in range(20)))
    assert len({reply[0] for reply in replies}) == 1  # opened once, though 20 asked at once
    await pool.aclose()


async def test_error_replies_are_returned_in_place(redis_url: str) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(redis_url), timeout_seconds=TIMEOUT)
    ok, error, pong = await pool.execute([("PING",), ("NOSUCHCOMMAND",), ("PING",)])
    assert (ok, pong) == (b"PONG", b"PONG")
    assert isinstance(error, ReplyError) and "unknown command" in str(error)
    await pool.aclose()


async def test_password_and_database_are_applied() -> None:
    with EmbeddedRedis(appendonly=False, extra_args=["--requirepass", "s3cret"]) as server:
        url = f"redis://:s3cret@127.0.0.1:{server.port}/3"
        pool = PipelinedRespPool(Endpoint.from_url(url), timeout_seconds=TIMEOUT)
        set_reply, info = await pool.execute([("SET", "k", "v"), ("CLIENT", "INFO")])
        assert set_reply == b"OK" and b" db=3 " in info
        await pool.aclose()

        wrong = PipelinedRespPool(
            Endpoint.from_url(f"redis://:nope@127.0.0.1:{server.port}/0"), timeout_seconds=TIMEOUT
        )
        with pytest.raises(RespError, match="refused the connection handshake"):
            await wrong.execute([("PING",)])
        await wrong.aclose()


async def test_a_server_not_answering_fails_every_waiting_batch_in_bounded_time(
    server: EmbeddedRedis,
) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(server.url), timeout_seconds=TIMEOUT)
    await pool.execute([("SET", "a", "first")])
    _freeze(server, True)
    started = time.monotonic()
    outcomes = await asyncio.gather(
        pool.execute([("GET", "a")]), pool.execute([("PING",)]), return_exceptions=True
    )
    assert all(isinstance(o, TimeoutError) for o in outcomes), outcomes
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 5  # bounded: not hung
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # nothing left to cancel us later
    _freeze(server, False)
    # On a new connection: the late reply to the timed-out GET is never read as this ECHO's.
    assert await pool.execute([("ECHO", "second")]) == [b"second"]
    await pool.aclose()


async def test_a_cancelled_batch_leaves_the_connection_and_the_next_batch_alone(
    server: EmbeddedRedis,
) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(server.url), timeout_seconds=5)
    ((client_id,),) = [await pool.execute([("CLIENT", "ID")])]
    _freeze(server, True)
    cancelled = asyncio.ensure_future(pool.execute([("ECHO", "cancelled")]))
    kept = asyncio.ensure_future(pool.execute([("ECHO", "kept")]))
    await asyncio.sleep(0.05)  # both written, both waiting
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    _freeze(server, False)
    assert await kept == [b"kept"]
    assert await pool.execute([("CLIENT", "ID")]) == [client_id]  # the same connection
    await pool.aclose()


async def test_an_outer_timeout_stays_the_callers(server: EmbeddedRedis) -> None:
    pool = PipelinedRespPool(Endpoint.from_url(server.url), timeout_seconds=TIMEOUT)
    await pool.execute([("PING",)])
    _freeze(server, True)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await pool.execute([("PING",)])
    await asyncio.sleep(TIMEOUT + 0.1)  # past the pool's deadline: nothing cancels this task
    _freeze(server, False)
    assert await pool.execute([("PING",)]) == [b"PONG"]
    await pool.aclose()


async def test_a_server_restart_does_not_fail_the_next_batch() -> None:
    port = free_port()
    with EmbeddedRedis(appendonly=False, port=port) as server:
        pool = PipelinedRespPool(Endpoint.from_url(server.url), timeout_seconds=TIMEOUT)
        assert await pool.execute([("PING",)]) == [b"PONG"]
    with EmbeddedRedis(appendonly=False, port=port):
        await asyncio.sleep(0.05)  # the old connection's EOF has been seen by the event loop
        assert await pool.execute([("PING",)]) == [b"PONG"]
    await pool.aclose()


async def test_a_server_not_there_is_a_connection_error() -> None:
    pool = PipelinedRespPool(Endpoint("127.0.0.1", free_port()), timeout_seconds=TIMEOUT)
    with pytest.raises(OSError):
        await pool.execute([("PING",)])
    await pool.aclose()


async def test_bytes_nobody_asked_for_retire_the_connection() -> None:
    async with scripted_server([]) as (port, accepted):
        pool = PipelinedRespPool(Endpoint("127.0.0.1", port), timeout_seconds=TIMEOUT)
        assert await pool.execute([("PING",)]) == [b"PONG"]
        accepted[0].write(b"+STALE\r\n")
        connection = pool._connection
        assert connection is not None
        for _ in range(1000):  # until the stale reply has reached the client: an event
            if connection.failure is not None:
                break
            await asyncio.sleep(0.01)
        assert isinstance(connection.failure, RespError)
        assert await pool.execute([("PING",)]) == [b"PONG"]  # not "STALE"
        await pool.aclose()
    assert len(accepted) == 2


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@ANY_BYTES_EXAMPLES
@given(
    counts=st.lists(st.integers(1, 3), min_size=1, max_size=4),
    pieces=st.lists(REPLIES, max_size=12),
    cut=st.integers(1, 64),
)
def test_any_bytes_give_each_batch_its_own_replies_or_an_error(
    counts: list[int], pieces: list[bytes], cut: int
) -> None:
    stream = b"".join(pieces)

    async def run() -> list[list[Any] | BaseException]:
        loop = asyncio.get_running_loop()
        connection = _Connection(loop, timeout_seconds=60)
        connection.connection_made(_Transport())  # type: ignore[arg-type]
        batches = [connection.send([("PING",)] * n) for n in counts]
        for start in range(0, len(stream), cut):
            connection.data_received(stream[start : start + cut])
        connection.connection_lost(None)
        return list(await asyncio.gather(*batches, return_exceptions=True))

    outcomes = asyncio.run(run())
    parser = hiredis.Reader()
    parser.feed(stream)
    parsed = []
    try:
        while (reply := parser.gets()) is not False:
            parsed.append(_comparable(reply))
    except hiredis.ProtocolError:
        pass
    # Batches answered in full got the stream's replies in order, each its own count.
    offset = 0
    for count, outcome in zip(counts, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, (RespError, ConnectionError)), outcome
            break
        assert [_comparable(r) for r in outcome] == parsed[offset : offset + count]
        offset += count
    # After the first failed batch, every later one failed too: none was handed the rest.
    failed = [isinstance(o, BaseException) for o in outcomes]
    assert failed == sorted(failed)


def _comparable(reply: object) -> object:
    """Error replies compare by text (exceptions compare by identity), in arrays too."""
    if isinstance(reply, list):
        return [_comparable(item) for item in reply]
    return ("error", str(reply)) if isinstance(reply, ReplyError) else reply


async def test_a_unix_socket_carries_the_batches_too(tmp_path: Path) -> None:
    socket_path = tmp_path / "valkey.sock"
    with EmbeddedRedis(appendonly=False, extra_args=["--unixsocket", str(socket_path)]):
        pool = PipelinedRespPool(
            Endpoint.from_url(f"unix://{socket_path}?db=2"), timeout_seconds=TIMEOUT
        )
        replies = await asyncio.gather(*(pool.execute([("CLIENT", "INFO")]) for _ in range(3)))
        assert all(b" db=2 " in info for (info,) in replies)
        assert len({info.split()[0] for (info,) in replies}) == 1  # one connection: one id
        await pool.aclose()


async def test_rediss_reaches_the_server_through_tls(tmp_path: Path, redis_url: str) -> None:
    """`rediss://` (a managed Redis such as Azure Cache for Redis takes only TLS), through a
    TLS proxy in front of the embedded server, for the worker's connection and the gateway's."""
    port = Endpoint.from_url(redis_url).port
    async with tls_proxy(tmp_path, port) as tls_port:
        url = f"rediss://127.0.0.1:{tls_port}/0?ssl_cert_reqs=none"
        pipelined = PipelinedRespPool(Endpoint.from_url(url), timeout_seconds=5)
        pooled = RespPool(Endpoint.from_url(url), max_connections=2)
        for pool in (pipelined, pooled):
            replies = await asyncio.gather(*(pool.execute([("ECHO", str(i))]) for i in range(5)))
            assert replies == [[str(i).encode()] for i in range(5)]
            await pool.aclose()
