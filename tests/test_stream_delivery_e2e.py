"""`deliveryMode: "stream"` through the real gateway, Redis and an in-process worker: the turn's
activities come back as server-sent events while it runs, nothing reaches the connector, a
retry reads the stored events, and a client that leaves does not stop the turn."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

import samples.streaming
from gateway.app import create_app
from shared.protocol.keys import Keyspace
from shared.redis.connection import Redis
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import serving
from tests.support.server_sent import Event, events, read_all
from tests.support.streams import pending_count
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e

TOKENS = ["Streams", " grow", " here."]


class EventBot(ActivityHandler):
    """Answers "stream" with an answer streamed a token at a time, each released by the test;
    "slow": waits for `release`, then replies; "unreachable" fails as if a service were down;
    anything else: three replies. An
    `Action.Execute` invoke is answered with a card."""

    def __init__(self) -> None:
        self.tokens: asyncio.Queue[None] = asyncio.Queue()
        self.release = asyncio.Event()
        self.finished: list[str] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text or ""
        if text == "stream":
            stream = turn_context.streaming_response
            stream.queue_informative_update("Thinking...")
            for token in TOKENS:
                await self.tokens.get()  # the test saw the previous update
                stream.queue_text_chunk(token)
            await self.tokens.get()
            await stream.end_stream()
        elif text == "unreachable":  # a transient failure every time: dead-lettered at last
            await turn_context.send_activity("trying")
            raise ConnectionRefusedError("the model's service is down")
        elif text == "slow":
            await turn_context.send_activity("started")
            await self.release.wait()
            await turn_context.send_activity("done")
        else:
            for n in (1, 2, 3):
                await turn_context.send_activity(f"{text} {n}")
        self.finished.append(text)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        await turn_context.send_activity("working on it")
        card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock"}]}
        return AdaptiveCardInvokeResponse(200, "application/vnd.microsoft.card.adaptive", card)


@dataclasses.dataclass
class Running:
    url: str
    service_url: str
    connector: DevConnector
    bot: EventBot
    http: aiohttp.ClientSession

    def streamed(self, text: str, activity_id: str, conversation: str) -> dict[str, Any]:
        activity = message(
            text, activity_id=activity_id, conversation=conversation, service_url=self.service_url
        )
        # A channel that does not stream by itself: on a `stream` request the answer grows.
        return activity | {"deliveryMode": "stream"}


@pytest.fixture
def stream_settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The settings, with the changes a test asks for (indirect parametrization)."""
    return dataclasses.replace(settings, **getattr(request, "param", {}))


async def _running(
    settings: Settings, connector: tuple[DevConnector, str], bot: Any
) -> AsyncIterator[Running]:
    dev, service_url = connector
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, bot, concurrency=8, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        yield Running(f"{gateway}/api/messages", service_url, dev, bot, http)
    stop.set()
    await worker


@pytest.fixture
async def running(
    stream_settings: Settings, connector: tuple[DevConnector, str]
) -> AsyncIterator[Running]:
    async for value in _running(stream_settings, connector, EventBot()):
        yield value


def _stream_type(event: Event) -> str | None:
    for entity in event.data.get("entities") or ():
        if entity.get("type") == "streaminfo":
            return str(entity["streamType"])
    return None


async def test_a_streamed_answer_grows_event_by_event(running: Running) -> None:
    seen: list[Event] = []
    async with running.http.post(
        running.url,
        data=orjson.dumps(running.streamed("stream", "s-1", "c-1")),
        headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
    ) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        async for event in events(response):
            seen.append(event)
            if event.kind == "activity" and event.data["type"] == "typing":
                running.bot.tokens.put_nowait(None)  # the model may produce the next token

    kinds = [(e.kind, e.data["type"] if e.kind == "activity" else None) for e in seen]
    assert kinds == [
        ("activity", "typing"),
        ("activity", "typing"),
        ("activity", "typing"),
        ("activity", "typing"),
        ("activity", "message"),
        ("end", None),
    ]
    informative, *chunks, final = (e.data for e in seen[:-1])
    assert informative["text"] == "Thinking..."
    assert _stream_type(seen[0]) == "informative"
    assert [c["text"] for c in chunks] == ["Streams", "Streams grow", "Streams grow here."]
    assert {_stream_type(e) for e in seen[1:4]} == {"streaming"}
    assert final["text"] == "Streams grow here."
    assert _stream_type(seen[4]) == "final"
    stream_ids = {
        entity.get("streamId")
        for e in seen[:5]
        for entity in e.data["entities"]
        if entity["type"] == "streaminfo"
    }
    assert len(stream_ids) == 1 and None not in stream_ids  # one stream, named on every update
    ids = [e.id for e in seen]
    assert all(ids) and ids == sorted(ids, key=lambda i: tuple(map(int, str(i).split("-"))))
    assert running.connector.received == []  # nothing of the turn went to the channel

    # A retry reads the answer as it stands: each chunk was superseded by the next, the last
    # one by the final message.
    again = await read_all(running.http, running.url, running.streamed("stream", "s-1", "c-1"))
    assert [(e.kind, e.data.get("text")) for e in again] == [
        ("activity", "Thinking..."),
        ("activity", "Streams grow here."),
        ("end", None),
    ]
    assert [e.id for e in again] == [seen[0].id, seen[4].id, seen[5].id]


async def test_an_echo_turns_replies_arrive_as_events_and_a_retry_reads_them_again(
    running: Running,
) -> None:
    activity = running.streamed("hi", "e-1", "c-2")

    first = await read_all(running.http, running.url, activity)
    again = await read_all(running.http, running.url, activity)  # a client's retry: same id

    assert [(e.kind, e.data.get("text")) for e in first] == [
        ("activity", "hi 1"),
        ("activity", "hi 2"),
        ("activity", "hi 3"),
        ("end", None),
    ]
    assert all(e.data["replyToId"] == "e-1" for e in first[:3])
    assert again == first  # the stored events, ids included: the turn did not run twice
    assert running.bot.finished == ["hi"]
    assert running.connector.received == []

    resumed = await read_all(
        running.http, running.url, activity, **{"Last-Event-ID": str(first[0].id)}
    )
    assert resumed == first[1:]  # a client that had the first event gets the rest


async def test_an_invoke_ends_with_its_invoke_response(running: Running) -> None:
    invoke = running.streamed("", "i-1", "c-3") | {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "value": {"action": {"type": "Action.Execute", "verb": "go", "data": {}}},
    }

    got = await read_all(running.http, running.url, invoke)

    assert [e.kind for e in got] == ["activity", "invokeResponse", "end"]
    assert got[0].data["text"] == "working on it"
    assert got[1].data == {
        "status": 200,
        "body": {
            "statusCode": 200,
            "type": "application/vnd.microsoft.card.adaptive",
            "value": {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock"}]},
        },
    }


async def test_a_client_that_leaves_does_not_stop_the_turn(running: Running) -> None:
    activity = running.streamed("slow", "l-1", "c-4")
    async with running.http.post(
        running.url, data=orjson.dumps(activity), headers={"Content-Type": "application/json"}
    ) as response:
        async for event in events(response):
            assert event.data["text"] == "started"
            break  # the client goes away mid-turn

    running.bot.release.set()
    got = await read_all(running.http, running.url, activity)  # it comes back later

    assert [(e.kind, e.data.get("text")) for e in got] == [
        ("activity", "started"),
        ("activity", "done"),
        ("end", None),
    ]
    assert running.bot.finished == ["slow"]


async def test_a_stream_request_the_client_cannot_read_is_refused_and_not_queued(
    running: Running, redis: Redis, keys: Keyspace
) -> None:
    activity = running.streamed("hi", "r-1", "c-5")

    refusals = [
        ({"Accept": "application/json"}, 406, "not_acceptable"),
        ({"Last-Event-ID": "yesterday"}, 400, "bad_last_event_id"),
    ]
    for headers, status, error in refusals:
        async with running.http.post(
            running.url,
            data=orjson.dumps(activity),
            headers={"Content-Type": "application/json", **headers},
        ) as refused:
            assert refused.status == status
            assert (await refused.json())["error"] == error

    assert sum([await redis.xlen(stream) for stream in keys.streams()]) == 0
    assert await pending_count(redis, keys) == 0


@pytest.mark.parametrize("stream_settings", [{"stream_keepalive_seconds": 0.2}], indirect=True)
async def test_a_quiet_turn_gets_keep_alives(running: Running) -> None:
    seen: list[str] = []
    activity = running.streamed("slow", "k-1", "c-6")
    async with running.http.post(
        running.url, data=orjson.dumps(activity), headers={"Content-Type": "application/json"}
    ) as response:
        async for event in events(response):
            seen.append(event.kind)
            if event.kind == "comment":
                running.bot.release.set()

    assert seen[0] == "activity"
    assert "comment" in seen[1:-2]
    assert seen[-2:] == ["activity", "end"]


@pytest.mark.parametrize("stream_settings", [{"stream_timeout_seconds": 1.0}], indirect=True)
async def test_a_turn_past_the_stream_timeout_gets_an_error_event_and_runs_on(
    running: Running,
) -> None:
    activity = running.streamed("slow", "t-1", "c-7")

    got = await read_all(running.http, running.url, activity)
    running.bot.release.set()
    later = await read_all(running.http, running.url, activity, **{"Last-Event-ID": str(got[0].id)})

    assert [e.kind for e in got] == ["activity", "error"]
    assert got[1].data["error"] == "stream_timeout"
    assert [(e.kind, e.data.get("text")) for e in later] == [("activity", "done"), ("end", None)]
    # The ack histogram counts a stream request to the head of its events, not to its end.
    metrics_url = running.url.replace("/api/messages", "/metrics")
    async with running.http.get(metrics_url) as response:
        exposition = await response.text()
    (ack_sum,) = [
        float(line.split()[-1])
        for line in exposition.splitlines()
        if line.startswith("turnstream_gateway_ack_seconds_sum")
    ]
    assert ack_sum < 1.0  # two requests, the first of which lasted the whole second


async def test_the_streaming_sample_read_as_events(
    settings: Settings, connector: tuple[DevConnector, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(samples.streaming, "WORD_SECONDS", 0.01)  # the answer in about a second
    async for running in _running(settings, connector, samples.streaming.bot):
        got = await read_all(running.http, running.url, running.streamed("why?", "q-1", "c-8"))

    informative, *chunks, final, end = got
    assert informative.data["text"] == "Thinking about it..."
    assert _stream_type(informative) == "informative"
    texts = [chunk.data["text"] for chunk in chunks]
    assert texts, "no chunk before the final message"
    assert all(samples.streaming.ANSWER.startswith(text) for text in texts)
    assert texts == sorted(texts, key=len) and len(set(texts)) == len(texts)  # it grows
    assert {_stream_type(chunk) for chunk in chunks} == {"streaming"}
    assert (final.data["type"], final.data["text"]) == ("message", samples.streaming.ANSWER)
    assert _stream_type(final) == "final"
    assert end.kind == "end"
    assert running.connector.received == []


@pytest.mark.parametrize("stream_settings", [{"max_deliveries": 2}], indirect=True)
async def test_a_dead_lettered_turn_ends_its_events_with_an_error(running: Running) -> None:
    got = await read_all(running.http, running.url, running.streamed("unreachable", "d-1", "c-9"))

    # Each try's reply (the second try's is its journaled first: sent once), then the error.
    assert [(e.kind, e.data.get("text")) for e in got[:-1]] == [("activity", "trying")]
    assert got[-1].kind == "error"
    assert got[-1].data["error"] == "turn_failed"
    assert "failed 2 times" in got[-1].data["message"]
