"""The streaming sample's answer on the wire, against what the Microsoft 365 Agents SDK 1.9
sends for the same bot.

`agents_sdk_1_9/*.json` were recorded from the Agents SDK for Python 1.9.0 (hosting-core and
hosting-aiohttp, anonymous, `CloudAdapter`): an agent doing what `samples/streaming.py` does
with the SDK's own `streaming_response`, asked once on Web Chat, once on Teams and once on Teams
with `deliveryMode: expectReplies`, every request its connector got kept in order (the service
URL replaced by `{serviceUrl}`). Where chunks fall depends on timing, so the chunks are compared
by shape (cumulative text, sequence, stream id); everything else field by field. What differs
on purpose is listed in docs/streaming.md ("Side by side with the Agents SDK") and applied to
the SDK's requests here (`_DIFFERENCES`, `_as_turnstream_sends`, the stream ids) before they
are compared."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import samples.streaming
from samples.streaming import ANSWER, StreamingBot
from tests.support.http import serving
from tests.support.recording_connector import NumberingConnector
from worker.bot.adapter import ConnectorAdapter
from worker.bot.invoke import BUFFERED_REPLIES_KEY
from worker.bot.streaming import StreamingResponse
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy

RECORDED = Path(__file__).parent / "agents_sdk_1_9"
PACE = 0.1
"""The stream's pause after each send here (the channels': Teams 1 s, Web Chat 0.5 s), so that
the answer still comes in several chunks, in about a second."""
WORD_SECONDS = 0.01
"""The fake model's pause before each word here: the answer takes ~1 s, long past the first
update's round trip (whose answer names the stream on Teams) even on a loaded machine."""


class PacedStreamingBot(StreamingBot):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        turn_context.streaming_response = StreamingResponse(turn_context, interval=PACE)
        await super().on_message_activity(turn_context)


def recorded(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return doc


def _with_service_url(value: Any, url: str) -> Any:
    return json.loads(json.dumps(value).replace("{serviceUrl}", url))


_DIFFERENCES = {
    "serviceUrl": "the connector knows where it is: turnstream leaves it out of the body",
    "inputHint": "on typing updates: the SDK sends acceptingInput there too; turnstream only on "
    "the message",
    "attachments": "the SDK sends an empty list on the final message; turnstream none",
}


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in body.items() if k not in _DIFFERENCES}
    if body.get("type") == "message" and "inputHint" in body:
        kept["inputHint"] = body["inputHint"]
    return kept


def _without_stream_ids(body: dict[str, Any]) -> dict[str, Any]:
    """`_comparable(body)` with no streamId in its streaminfo entity or its channelData."""
    kept = _comparable(json.loads(json.dumps(body)))
    _info(kept).pop("streamId", None)
    if isinstance(kept.get("channelData"), dict):
        kept["channelData"].pop("streamId", None)
    return kept


def _as_turnstream_sends(channel: str, sdk_body: dict[str, Any]) -> dict[str, Any]:
    """What turnstream sends where the SDK sent `sdk_body`, by the differences docs/streaming.md
    lists (stream ids aside): on Web Chat, into the conversation rather than as a reply, and the
    stream's fields in channelData too."""
    body = _without_stream_ids(sdk_body)
    if channel == "webchat":
        body.pop("replyToId")
        fields = {k: v for k, v in _info(body).items() if k != "type"}
        body["channelData"] = {**(body.get("channelData") or {}), **fields}
    return body


def _stream_ids(requests: list[dict[str, Any]]) -> list[str | None]:
    """Each request's streamId, named by where it came from: the connector's answer to the
    first request (`first answer`), or one id made by the bot (`made`)."""
    first_answer = requests[0]["answer"]["id"]
    ids: list[str | None] = []
    for request in requests:
        stream_id = _info(request["body"]).get("streamId")
        ids.append(
            None if stream_id is None else "first answer" if stream_id == first_answer else "made"
        )
    return ids


def _info(body: dict[str, Any]) -> dict[str, Any]:
    return next((e for e in body.get("entities") or () if e.get("type") == "streaminfo"), {})


@pytest.fixture(autouse=True)
def fast_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples.streaming, "WORD_SECONDS", WORD_SECONDS)


@pytest.fixture
async def client() -> AsyncIterator[ConnectorClient]:
    made = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield made
    await made.aclose()


async def ask(client: ConnectorClient, case: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    """Run the sample for the case's inbound activity; what reached the connector (method,
    path, answer, body) and what the turn buffered for the HTTP answer."""
    connector = NumberingConnector()
    async with serving(connector.app) as url:
        service_url = url + "/"
        inbound = _with_service_url(case["inbound"], service_url)
        context = await ConnectorAdapter(client).process_activity(inbound, PacedStreamingBot())
    requests = [
        {
            "method": r.method,
            "path": r.raw_path,
            "answer": {"id": f"act-{n}"},
            "body": _with_service_url(r.body, "{serviceUrl}"),
        }
        for n, r in enumerate(connector.requests, 1)
    ]
    return requests, context.turn_state.get(BUFFERED_REPLIES_KEY)


@pytest.mark.parametrize("channel", ["msteams", "webchat"])
async def test_a_streamed_answer_reaches_the_connector_as_the_agents_sdk_sends_it(
    client: ConnectorClient, channel: str
) -> None:
    sdk = recorded(channel)["requests"]
    ours, _ = await ask(client, recorded(channel))

    assert len(ours) >= 3  # the informative update, chunks, the final message
    # Every request is a POST to the same place the SDK posted to (on Web Chat, not as a
    # reply: botbuilder's rule for replies there, see docs/streaming.md).
    expected_path = sdk[0]["path"]
    if channel == "webchat":
        expected_path = expected_path.removesuffix("/q1")
    assert {(r["method"], r["path"]) for r in ours} == {("POST", expected_path)}
    # Chunks: typing activities with the answer so far, numbered on from the update.
    chunks = ours[1:-1]
    assert all(r["body"]["type"] == "typing" for r in chunks)
    texts = [r["body"]["text"] for r in chunks] + [ours[-1]["body"]["text"]]
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(texts))
    assert [_info(r["body"]).get("streamSequence") for r in ours] == [
        *range(1, len(ours)),
        None,
    ]
    assert {_info(r["body"]).get("streamType") for r in chunks} == {"streaming"}
    # The stream's id: the channel's answer to the first request, on every later one. The
    # SDK's on Teams too; on Web Chat it makes one (a uuid, on the first too), which Web Chat's
    # livestreaming does not take (docs/streaming.md).
    assert _stream_ids(ours) == [None] + ["first answer"] * (len(ours) - 1)
    sdk_ids = {
        "msteams": [None] + ["first answer"] * (len(sdk) - 1),
        "webchat": ["made"] * len(sdk),
    }
    assert _stream_ids(sdk) == sdk_ids[channel]
    # The informative update and the final message: field by field, their stream ids aside.
    assert [e.get("streamType") for e in ours[0]["body"]["entities"]] == ["informative"]
    assert _without_stream_ids(ours[0]["body"]) == _as_turnstream_sends(channel, sdk[0]["body"])
    assert ours[-1]["body"]["text"] == ANSWER
    assert _without_stream_ids(ours[-1]["body"]) == _as_turnstream_sends(channel, sdk[-1]["body"])


async def test_with_expect_replies_the_answer_is_one_message_as_the_agents_sdks_is(
    client: ConnectorClient,
) -> None:
    case = recorded("msteams_expect_replies")
    sent, buffered = await ask(client, case)

    assert sent == []  # nothing to the connector
    # The SDK's answer also holds a bare typing activity from its AgentApplication's typing
    # timer, which is not the stream's; and it writes unset fields as null.
    (sdk_message,) = [a for a in case["answer"]["activities"] if a["type"] == "message"]
    (message,) = buffered

    def without_nulls(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_nulls(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [without_nulls(v) for v in value]
        return value

    ours = _with_service_url(message, "{serviceUrl}")
    assert _comparable(ours) == _comparable(without_nulls(sdk_message))
