"""The bot's own HTTP routes (`BotApp(routes=[...])`) through the real gateway and a worker:
served where the worker declares them, checked at the gateway before anything is queued,
answered with what the handler returned."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.http import serving
from tests.support.streams import stream_lengths
from worker.bot import ActivityHandler, BotApp, BotRoute, RouteRequest, RouteResponse
from worker.runtime.process import run_worker

SECRET = "r" * 40


async def echo(request: RouteRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "query": request.query,
        "json": request.json() if request.body else None,
        "headers": sorted(request.headers),
    }


async def hello(request: RouteRequest) -> RouteResponse:
    return RouteResponse(f"hello {request.query.get('name', 'you')}", status=201)


async def picture(request: RouteRequest) -> RouteResponse:
    return RouteResponse(b"\x89PNG", content_type="image/png")


async def nothing(request: RouteRequest) -> None:
    return None


async def broken(request: RouteRequest) -> str:
    raise RuntimeError("the handler's own secret detail")


async def slow(request: RouteRequest) -> str:
    await asyncio.sleep(2)
    return "late"


APP = BotApp(
    ActivityHandler(),
    routes=[
        BotRoute("/api/echo", echo, methods=("GET", "POST"), public=True, max_body_bytes=100),
        BotRoute("/api/hello", hello, methods=("GET",)),
        BotRoute("/hooks/picture", picture, methods=("GET",), public=True),
        BotRoute("/hooks/nothing", nothing, methods=("DELETE",), public=True),
        BotRoute("/hooks/broken", broken, public=True),
        BotRoute("/hooks/slow", slow, methods=("GET",), public=True),
    ],
)


@dataclasses.dataclass
class Served:
    gateway: str
    http: aiohttp.ClientSession

    async def call(
        self, method: str, path: str, *, data: bytes | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        async with self.http.request(
            method, f"{self.gateway}{path}", data=data, headers=headers
        ) as response:
            return response.status, dict(response.headers), await response.read()


async def _served(settings: Settings) -> AsyncIterator[Served]:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, APP, handle_signals=False, stop=stop))
    try:
        async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
            served = Served(gateway, http)
            for _ in range(200):  # until the worker published its routes
                if (await served.call("GET", "/hooks/picture"))[0] == 200:
                    break
                await asyncio.sleep(0.05)
            yield served
    finally:
        stop.set()
        await worker


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    settings = dataclasses.replace(settings, proactive_secret=SECRET, reply_timeout_seconds=1.0)
    async for running in _served(settings):
        yield running


async def test_a_public_route_gets_the_request_and_answers_json(served: Served) -> None:
    status, headers, body = await served.call(
        "POST",
        "/api/echo?a=1&b=two",
        data=b'{"x": [1, 2]}',
        **{"Content-Type": "application/json", "Authorization": "Bearer x", "X-Custom": "y"},
    )

    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    answer = orjson.loads(body)
    assert answer["method"] == "POST"
    assert answer["query"] == {"a": "1", "b": "two"}
    assert answer["json"] == {"x": [1, 2]}
    assert "x-custom" in answer["headers"]
    assert "authorization" not in answer["headers"]  # the caller's credentials stay at the gateway


async def test_an_operator_route_needs_the_secret(served: Served) -> None:
    refused = await served.call("GET", "/api/hello")
    wrong = await served.call("GET", "/api/hello", Authorization="Bearer nope")
    status, headers, body = await served.call(
        "GET", "/api/hello?name=ops", Authorization=f"Bearer {SECRET}"
    )

    assert refused[0] == wrong[0] == 401
    assert (status, body) == (201, b"hello ops")
    assert headers["Content-Type"].startswith("text/plain")


async def test_other_answers_bytes_no_content_and_a_failing_handler(served: Served) -> None:
    picture = await served.call("GET", "/hooks/picture")
    nothing = await served.call("DELETE", "/hooks/nothing")
    broken = await served.call("POST", "/hooks/broken")

    assert (picture[0], picture[1]["Content-Type"], picture[2]) == (200, "image/png", b"\x89PNG")
    assert (nothing[0], nothing[2]) == (204, b"")
    assert broken[0] == 500
    assert b"bot_error" in broken[2]
    assert b"secret detail" not in broken[2]


async def test_a_slow_handler_gets_504_and_still_runs(served: Served) -> None:
    status, _, body = await served.call("GET", "/hooks/slow")

    assert status == 504
    assert b"will still run" in body


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("GET", "/api/unknown", None, 404),
        ("PUT", "/api/echo", None, 405),
        ("POST", "/api/echo", b"x" * 101, 413),
        ("GET", "/api/messages", None, 405),
    ],
)
async def test_bad_requests_are_refused_and_nothing_is_queued(
    served: Served,
    redis: Redis,
    keys: Keyspace,
    method: str,
    path: str,
    data: bytes | None,
    status: int,
) -> None:
    before = await stream_lengths(redis, keys)

    answer, headers, body = await served.call(method, path, data=data)

    assert answer == status
    assert b'"message"' in body
    if status == 405 and path == "/api/echo":
        assert headers["Allow"] == "GET, POST"
    assert await stream_lengths(redis, keys) == before


async def test_without_the_secret_operator_routes_do_not_exist(settings: Settings) -> None:
    async for served in _served(settings):
        status, _, body = await served.call("GET", "/api/hello", Authorization="Bearer x")

        assert status == 404
        assert b"TURNSTREAM_PROACTIVE_SECRET" in body


async def test_a_stopped_worker_withdraws_its_routes(settings: Settings, redis: Redis) -> None:
    keys = Keyspace(settings.key_prefix, settings.shards)
    async for _ in _served(settings):
        assert await redis.hlen(keys.bot_routes()) == 1

    assert await redis.hlen(keys.bot_routes()) == 0
