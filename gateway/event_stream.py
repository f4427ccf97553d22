"""Answer a `deliveryMode: "stream"` request with server-sent events: the turn's events
(`shared.protocol.answer_events`) relayed from Redis as the worker appends them.

One subscription per gateway process wakes the request (`AnswerBoard.follow`); each wake-up
costs one non-blocking XREAD of what is new since the last relayed entry, so no connection is
held per waiting request, and a wake-up lost while the subscription was down costs nothing but
a later read (the board wakes every follower when it subscribes again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from redis.exceptions import RedisClusterException, RedisError
from starlette.types import Receive, Send

from gateway.answer_board import AnswerBoard, Followed
from shared.protocol.answer_events import (
    ERROR,
    KEEP_ALIVE,
    LAST,
    EventError,
    read_entry,
    server_sent,
)
from shared.redis.connection import Redis

log = logging.getLogger(__name__)

_READ_COUNT = 100
"""Events read in one XREAD: a burst is relayed in a few reads, each bounded."""
_RETRY_SECONDS = 0.5
"""Pause before reading again after a Redis error (a wake-up may cut it short)."""

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx (ingress-nginx) would buffer the events
]


async def relay_events(
    redis: Redis,
    board: AnswerBoard,
    followed: Followed,
    send: Send,
    receive: Receive,
    *,
    after: str,
    within: float,
    keepalive: float,
) -> str:
    """Send the 200 head, then every event after entry `after` until `end` or a worker's
    `error` (returns "end"),
    the client went away ("disconnected": the turn runs on), or `within` seconds passed
    (`event: error`, "timeout")."""
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    gone = asyncio.ensure_future(_disconnected(receive))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last_sent = loop.time()
    failing = False
    try:
        while True:
            followed.woken.clear()  # before the read: a wake-up during it is not lost
            try:
                entries = await _read(redis, followed.key, after)
                failing = False
            except (RedisError, RedisClusterException, OSError) as e:
                if not failing:  # once per outage and request, not every retry
                    log.warning("could not read the events %s: %s", followed.key, e)
                entries, failing = [], True
            for entry_id, kind, data in entries:
                await send(_body(server_sent(kind, data, entry_id)))
                after, last_sent = entry_id.decode(), loop.time()
                if kind in LAST:
                    return "end"
            if entries:
                continue
            now = loop.time()
            if now >= deadline:
                await send(_body(_timeout_event(within)))
                return "timeout"
            if now - last_sent >= keepalive:
                await send(_body(KEEP_ALIVE))
                last_sent = now
            wait = min(deadline, last_sent + keepalive) - now
            woken = asyncio.ensure_future(followed.woken.wait())
            done, _ = await asyncio.wait(
                {woken, gone},
                timeout=min(wait, _RETRY_SECONDS) if failing else wait,
                return_when=asyncio.FIRST_COMPLETED,
            )
            woken.cancel()
            if gone in done:
                return "disconnected"
    finally:
        gone.cancel()
        board.unfollow(followed)
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _read(redis: Redis, key: str, after: str) -> list[tuple[bytes, bytes, bytes]]:
    """The events after entry `after` (a non-blocking XREAD: no connection is held)."""
    reply: Any = await redis.xread({key: after}, count=_READ_COUNT)
    events = []
    for _stream, entries in reply or ():
        for entry_id, fields in entries:
            raw_id = entry_id.encode() if isinstance(entry_id, str) else entry_id
            try:
                kind, data = read_entry(fields)
            except EventError as e:
                log.error("skipping entry %s of %s: %s", raw_id, key, e)
                continue
            events.append((raw_id, kind, data))
    return events


async def _disconnected(receive: Receive) -> None:
    """Returns once the client closed the connection (the body was read before)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _body(data: bytes) -> dict[str, object]:
    return {"type": "http.response.body", "body": data, "more_body": True}


def _timeout_event(timeout: float) -> bytes:
    data = orjson.dumps(
        {
            "error": "stream_timeout",
            "message": f"the turn did not end within {timeout:g} s; it goes on, and a retry "
            "with the same activity id (and Last-Event-ID) reads its events",
        }
    )
    return server_sent(ERROR, data)
