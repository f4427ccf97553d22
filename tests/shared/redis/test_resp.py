"""The plain RESP pool against real servers: handshake, restarts, cancelled batches."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl

import pytest

from shared.redis.resp import Endpoint, ReplyError, RespError, RespPool
from turnstream.embedded import EmbeddedRedis, free_port


def test_endpoint_from_url() -> None:
    assert Endpoint.from_url("redis://127.0.0.1:6380/2") == Endpoint("127.0.0.1", 6380, db=2)
    assert Endpoint.from_url("redis://:pw@h") == Endpoint("h", 6379, password="pw")
    assert Endpoint.from_url("unix:///run/r.sock?db=1").path == "/run/r.sock"
    secure = Endpoint.from_url("rediss://user:pw@h:6390/0?ssl_cert_reqs=none")
    assert (secure.username, secure.password, secure.port) == ("user", "pw", 6390)
    assert secure.tls is not None and secure.tls.verify_mode == ssl.CERT_NONE
    assert Endpoint.from_url("rediss://h").tls is not None


async def test_password_and_database_are_applied() -> None:
    with EmbeddedRedis(appendonly=False, extra_args=["--requirepass", "s3cret"]) as server:
        url = f"redis://:s3cret@127.0.0.1:{server.port}/3"
        pool = RespPool(Endpoint.from_url(url), max_connections=2)
        set_reply, info, value = await pool.execute(
            [("SET", "k", "v"), ("CLIENT", "INFO"), ("GET", "k")]
        )
        assert (set_reply, value) == (b"OK", b"v")
        assert b" db=3 " in info
        await pool.aclose()

        wrong = RespPool(
            Endpoint.from_url(f"redis://:nope@127.0.0.1:{server.port}/0"), max_connections=1
        )
        with pytest.raises(RespError, match="refused the connection handshake"):
            await wrong.execute([("PING",)])


async def test_error_replies_are_returned_in_place(redis_url: str) -> None:
    pool = RespPool(Endpoint.from_url(redis_url), max_connections=1)
    ok, error, pong = await pool.execute([("PING",), ("NOSUCHCOMMAND",), ("PING",)])
    assert (ok, pong) == (b"PONG", b"PONG")
    assert isinstance(error, ReplyError) and "unknown command" in str(error)
    await pool.aclose()


async def test_a_server_restart_does_not_fail_the_next_batch() -> None:
    port = free_port()
    with EmbeddedRedis(appendonly=False, port=port) as server:
        pool = RespPool(Endpoint.from_url(server.url), max_connections=1)
        assert await pool.execute([("PING",)]) == [b"PONG"]
    with EmbeddedRedis(appendonly=False, port=port):
        await asyncio.sleep(0.05)  # the old connection's EOF has been seen by the event loop
        assert await pool.execute([("PING",)]) == [b"PONG"]  # a fresh connection, not the dead one
    await pool.aclose()


async def test_a_cancelled_batch_never_hands_its_replies_to_the_next() -> None:
    with EmbeddedRedis(appendonly=False) as server:
        assert server.pid is not None
        pool = RespPool(Endpoint.from_url(server.url), max_connections=1)
        await pool.execute([("SET", "a", "first")])
        os.kill(server.pid, signal.SIGSTOP)
        try:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await pool.execute([("GET", "a")])
        finally:
            os.kill(server.pid, signal.SIGCONT)
        # The late reply to the cancelled GET must not be read as the answer to this ECHO.
        assert await pool.execute([("ECHO", "second")]) == [b"second"]
        await pool.aclose()


async def test_connections_are_bounded_and_reused(redis_url: str) -> None:
    pool = RespPool(Endpoint.from_url(redis_url), max_connections=2)
    replies = await asyncio.gather(*(pool.execute([("CLIENT", "ID")]) for _ in range(20)))
    assert len({reply[0] for reply in replies}) <= 2
    await pool.aclose()
