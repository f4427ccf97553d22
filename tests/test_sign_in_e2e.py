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
from tests.support.http import serving
from tests.support.processes import start_workers, stop_processes
from tests.support.token_service import FakeTokenService
from tests.worker.runtime.test_drain import worker_env
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e


async def test_sign_in_by_magic_code_then_sign_out(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    tokens = FakeTokenService()
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
    assert replies[0].startswith("please sign in: https://signin.example/?state=")
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
