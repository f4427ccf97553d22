"""The dev chat page's HTTP side: bad input gets a 4xx with a JSON message; the page is served;
Stop makes the dev connector refuse that stream as Teams does."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.support.http import serving
from turnstream.chat import ChatFrontDoor, ChatPage
from turnstream.devconnector import DevConnector


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/chat/send", b"{not json", "body is not JSON"),
        ("/chat/send", b'{"text": "hi"}', "conversation (a string) is required"),
        ("/chat/send", b'{"conversation": "c", "text": 5}', "text must be a string"),
        ("/chat/conversations", b'{"conversation": "../x"}', "conversation must match"),
        ("/chat/send", b'{"conversation": "c", "channel": "slack"}', "channel must be"),
        ("/chat/invoke", b'{"conversation": "c"}', "name must be a string"),
        ("/chat/invoke", b'{"conversation": "c", "name": ""}', "name must be a string"),
        ("/chat/invoke", b'{"name": "task/fetch"}', "conversation (a string) is required"),
        ("/chat/stop", b'{"conversation": "c"}', "conversation and streamId"),
        ("/chat/stop", b"[1]", "conversation and streamId"),
    ],
)
async def test_bad_requests_get_a_json_400(
    settings: Settings, path: str, body: bytes, message: str
) -> None:
    chat = ChatPage(DevConnector(echo_log=False), service_url="http://127.0.0.1:9")
    async with (
        serving(ChatFrontDoor(chat.app, create_app(settings))) as url,
        aiohttp.ClientSession() as http,
    ):
        async with http.post(f"{url}{path}", data=body) as answer:
            assert answer.status == 400
            error = await answer.json()
            assert error["error"] == "bad_request"
            assert message in error["message"]
        async with http.get(f"{url}/chat/events") as answer:
            assert answer.status == 400
        async with http.get(f"{url}/") as answer:
            assert answer.status == 200
            assert "turnstream dev chat" in await answer.text()
        async with http.get(f"{url}/healthz") as answer:  # the rest is the gateway's
            assert answer.status == 200
    await chat.close()


def update(stream_id: str, text: str) -> dict[str, Any]:
    entity = {"type": "streaminfo", "streamType": "streaming", "streamId": stream_id}
    return {"type": "typing", "text": text, "entities": [entity]}


async def test_stop_refuses_that_streams_next_update_as_teams_does(settings: Settings) -> None:
    connector = DevConnector(echo_log=False)
    async with serving(connector.app) as service_url, aiohttp.ClientSession() as http:
        chat = ChatPage(connector, service_url=service_url)
        async with serving(ChatFrontDoor(chat.app, create_app(settings))) as url:
            stop = {"conversation": "c1", "streamId": "s1"}
            async with http.post(f"{url}/chat/stop", json=stop) as answer:
                assert answer.status == 200
        await chat.close()
        activities = f"{service_url}/v3/conversations/c1/activities"
        async with http.post(activities, json=update("s1", "a b")) as answer:
            assert answer.status == 403
            assert (await answer.json())["error"]["code"] == "ContentStreamNotAllowed"
        async with http.post(activities, json=update("s2", "a b")) as answer:
            assert answer.status == 200  # another stream goes on
        other = f"{service_url}/v3/conversations/c2/activities"
        async with http.post(other, json=update("s1", "a")) as answer:
            assert answer.status == 200  # the same id in another conversation, too
    assert [r.body["entities"][0]["streamId"] for r in connector.received] == ["s2", "s1"]
