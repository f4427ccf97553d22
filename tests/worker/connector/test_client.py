"""The connector client against real loopback servers that answer the way channels do."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.schema.activity import ResourceResponse
from tests.support.http import serving
from worker.connector.client import ConnectorClient, _retry_delay
from worker.connector.errors import ConnectorError
from worker.connector.service_urls import OutboundPolicy

LOOPBACK = OutboundPolicy(allow_private=True)
"""These channels listen on 127.0.0.1, a private address the worker refuses by default."""

ANSWERS = {
    "json": Response('{"id": "a-1"}', media_type="application/json"),
    "empty": Response(status_code=200),
    "html": Response("<html>ok</html>", media_type="text/html"),
    "list": Response("[1]", media_type="application/json"),
    "busy": Response('{"error": "throttled"}', status_code=429),
}


def channel_app(seen: list[tuple[str, str]]) -> Starlette:
    async def activities(request: Request) -> Response:
        seen.append((request.url.path, request.headers["content-type"]))
        return ANSWERS[request.path_params["conversation"].split(":")[-1]]

    path = "/v3/conversations/{conversation}/activities"
    return Starlette(
        routes=[
            Route(path, activities, methods=["POST"]),
            Route(path + "/{id}", activities, methods=["POST"]),
        ]
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("json", ResourceResponse(id="a-1")),
        ("empty", ResourceResponse()),
        ("html", ResourceResponse()),
        ("list", ResourceResponse()),
    ],
)
async def test_any_2xx_body_is_accepted(kind: str, expected: ResourceResponse) -> None:
    seen: list[tuple[str, str]] = []
    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    async with serving(channel_app(seen)) as url:
        reply = await client.reply_to_activity(
            url + "/", f"19:x@thread;m={kind}:{kind}", "7", {"type": "message"}
        )
    await client.aclose()
    assert reply == expected
    # Teams-style ids travel as one escaped path segment.
    assert seen == [
        (
            f"/v3/conversations/19:x@thread;m={kind}:{kind}/activities/7",
            "application/json; charset=utf-8",
        )
    ]


async def test_an_error_status_raises_with_the_body() -> None:
    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    async with serving(channel_app([])) as url:
        with pytest.raises(ConnectorError, match="429") as caught:
            await client.send_to_conversation(url, "c:busy", {"type": "message"})
    await client.aclose()
    assert caught.value.status == 429 and "throttled" in caught.value.body


def flaky_channel(answers: list[Response], seen: list[float]) -> Starlette:
    """Answers with `answers` in turn (the last one forever), noting when each request came."""

    async def activities(request: Request) -> Response:
        seen.append(time.monotonic())
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return Starlette(
        routes=[Route("/v3/conversations/{c}/activities", activities, methods=["POST"])]
    )


async def test_throttling_is_retried_honouring_retry_after() -> None:
    seen: list[float] = []
    answers = [
        Response(status_code=429, headers={"Retry-After": "1"}),
        Response(status_code=503, headers={"Retry-After": "0"}),
        Response('{"id": "ok"}', media_type="application/json"),
    ]
    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    async with serving(flaky_channel(answers, seen)) as url:
        reply = await client.send_to_conversation(url, "c", {"type": "message"})
    await client.aclose()
    assert reply == ResourceResponse(id="ok")
    assert len(seen) == 3
    assert seen[1] - seen[0] >= 0.95  # waited as told


async def test_failures_that_may_have_been_delivered_are_not_posted_again() -> None:
    seen: list[float] = []
    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    async with serving(flaky_channel([Response(status_code=502)], seen)) as url:
        with pytest.raises(ConnectorError, match="502"):
            await client.send_to_conversation(url, "c", {"type": "message"})
    await client.aclose()
    assert len(seen) == 1


async def test_throttling_gives_up_after_three_tries() -> None:
    seen: list[float] = []
    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    throttled = Response(status_code=429, headers={"Retry-After": "0"})
    async with serving(flaky_channel([throttled], seen)) as url:
        with pytest.raises(ConnectorError, match="429"):
            await client.send_to_conversation(url, "c", {"type": "message"})
    await client.aclose()
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [("2", 2, 2), ("999", 10, 10), ("-5", 0, 0), ("soon", 0.25, 0.5)],
)
def test_retry_delay(header: str, low: float, high: float) -> None:
    assert low <= _retry_delay(header, 1) <= high


async def test_a_check_before_each_attempt_can_stop_a_retry() -> None:
    """A worker that stalled while a reply waited to be retried must not post it for a turn
    another worker took over: the check runs before every attempt, retries included."""
    seen: list[tuple[str, str]] = []
    checks = 0

    async def still_ours() -> None:
        nonlocal checks
        checks += 1
        if checks > 1:
            raise RuntimeError("lost the entry")

    client = ConnectorClient.create(timeout_seconds=5, policy=LOOPBACK)
    async with serving(channel_app(seen)) as url:
        with pytest.raises(RuntimeError, match="lost the entry"):
            await client.send_to_conversation(
                url, "c:busy", {"type": "message"}, before_attempt=still_ours
            )
    await client.aclose()
    assert checks == 2 and len(seen) == 1  # the 429 was not retried
