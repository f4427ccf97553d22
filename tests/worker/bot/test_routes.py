"""Declaring the bot's HTTP routes: a route that cannot be served is refused when the bot module
is imported (the worker does not start), naming the route; what a handler returns becomes the
answer the gateway sends."""

from __future__ import annotations

from typing import Any

import pytest

from shared.protocol.answers import Answer
from shared.protocol.bot_routes import BadRoute, decode_table, encode_table, route_conversation
from worker.bot import ActivityHandler, BotApp, BotRoute, RouteResponse


async def handler(request: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"path": "api/notify"}, "route path 'api/notify'"),
        ({"path": "/api/../x"}, "route path"),
        ({"path": "/api/a b"}, "route path"),
        ({"path": "/api/messages"}, "/api/messages is the gateway's own"),
        ({"path": "/api/proactive/x"}, "/api/proactive is the gateway's own"),
        ({"path": "/healthz"}, "gateway's own"),
        ({"path": "/x", "methods": ("GET", "TRACE")}, "methods must be some of"),
        ({"path": "/x", "methods": "GET"}, "methods is a list"),
        ({"path": "/x", "methods": ()}, "methods must be some of"),
        ({"path": "/x", "max_body_bytes": 2 * 1024 * 1024}, "max_body_bytes must be"),
    ],
)
def test_a_route_that_cannot_be_served_is_refused(arguments: dict[str, Any], needle: str) -> None:
    with pytest.raises(BadRoute, match=needle):
        BotRoute(handler=handler, **arguments)


def test_a_path_declared_twice_is_refused() -> None:
    with pytest.raises(BadRoute, match="two routes for /api/notify"):
        BotApp(ActivityHandler(), routes=[BotRoute("/api/notify", handler)] * 2)


def test_methods_are_upper_cased_and_the_table_round_trips() -> None:
    routes = [
        BotRoute("/api/notify", handler, methods=("get", "post")),
        BotRoute("/hooks/x", handler, public=True, max_body_bytes=0),
    ]

    table = decode_table(encode_table(route.declaration for route in routes))

    assert table == [route.declaration for route in routes]
    assert table[0].methods == ("GET", "POST")
    assert route_conversation("/api/notify") == "turnstream/route/api/notify"


@pytest.mark.parametrize(
    ("result", "answer"),
    [
        ("sent", Answer(200, b"sent", "text/plain; charset=utf-8")),
        ({"ok": True}, Answer(200, b'{"ok":true}')),
        (None, Answer(204)),
        (RouteResponse(b"\x01", status=202), Answer(202, b"\x01", "application/octet-stream")),
        (
            RouteResponse("<p>hi</p>", content_type="text/html"),
            Answer(200, b"<p>hi</p>", "text/html"),
        ),
    ],
)
def test_what_a_handler_returns_is_the_answer(result: Any, answer: Answer) -> None:
    assert RouteResponse.of(result).answer() == answer
    assert Answer.decode(answer.encode()) == answer
