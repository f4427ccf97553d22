"""User tokens through the real path: gateway -> Redis Streams -> two worker processes -> the
token service (on loopback, TURNSTREAM_TOKEN_SERVICE_URL) and the connector."""

from __future__ import annotations

import base64

import aiohttp
import orjson
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from tests.support.processes import start_workers, stop_processes, worker_env
from turnstream.dev_token_service import DevTokenService
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e


async def test_sign_in_by_magic_code_then_sign_out(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    tokens = DevTokenService()
    tokens.magic_codes[("user-1", "graph", "424242")] = "graph-token"
    async with (
        serving(tokens.app) as token_service_url,
        serving(create_app(settings)) as gateway,
        aiohttp.ClientSession() as http,
    ):
        env = worker_env(settings) | {"TURNSTREAM_TOKEN_SERVICE_URL": token_service_url}
        workers = await start_workers(env, "tests.support.sign_in_bot:bot", 2)
        try:
            for n, text in enumerate(["hi", "424242", "again", "logout", "still there?"]):
                activity = message(text, activity_id=f"a{n}", service_url=service_url)
                async with http.post(
                    f"{gateway}/api/messages",
                    data=orjson.dumps(activity),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    assert response.status == 202
                await dev.wait_for(n + 1, within=30)
        finally:
            errors = await stop_processes(workers)
    assert "Traceback" not in "".join(errors)

    replies = [a["text"] for a in dev.activities()]
    assert replies[0].startswith(f"please sign in: {token_service_url}/signin?state=")
    assert replies[1:4] == [
        "signed in with graph-token",
        "signed in with graph-token",
        "signed out",
    ]
    assert replies[4].startswith("please sign in: ")

    state = orjson.loads(base64.b64decode(replies[0].split("state=", 1)[1]))
    assert state["connectionName"] == "graph"
    assert state["conversation"]["conversation"]["id"] == "conv-1"
    assert state["conversation"]["serviceUrl"] == service_url
    assert "msAppId" in state
    calls = [(r.method, r.path) for r in tokens.received]
    assert ("DELETE", "/api/usertoken/SignOut") in calls
    user_calls = [r for r in tokens.received if r.path.startswith("/api/usertoken/")]
    assert user_calls and all(r.query["userId"] == "user-1" for r in user_calls)


async def test_auto_sign_in_runs_the_interrupted_message_after_the_code(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    """The first worker sends the card and stops; the second redeems the code and runs the
    message that asked for sign-in, from conversation state in Redis."""
    dev, service_url = connector
    tokens = DevTokenService()
    tokens.magic_codes[("user-1", "graph", "135790")] = "graph-token"
    async with (
        serving(tokens.app) as token_service_url,
        serving(create_app(settings)) as gateway,
        aiohttp.ClientSession() as http,
    ):
        env = worker_env(settings) | {"TURNSTREAM_TOKEN_SERVICE_URL": token_service_url}
        bot = "tests.support.auto_sign_in_bot:bot"

        async def say(n: int, text: str) -> None:
            activity = message(text, activity_id=f"a{n}", service_url=service_url)
            status, _ = await post_json(http, f"{gateway}/api/messages", activity)
            assert status == 202

        first = await start_workers(env, bot, 1)
        await say(1, "what is new?")
        await dev.wait_for(1, within=30)
        errors = await stop_processes(first)
        second = await start_workers(env, bot, 1)
        try:
            await say(2, "135790")
            await say(3, "and then?")
            await dev.wait_for(3, within=30)
        finally:
            errors += await stop_processes(second)
    assert "Traceback" not in "".join(errors)
    card, *replies = dev.activities()
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.oauth"
    assert [r["text"] for r in replies] == [
        "what is new? (as graph-token)",
        "and then? (as graph-token)",
    ]
