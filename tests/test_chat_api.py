"""The dev chat page's HTTP side: bad input gets a 4xx with a JSON message; the page is served."""

from __future__ import annotations

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
