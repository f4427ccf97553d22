"""The authentication sample through the real path: the gateway, two worker processes, the
token service and the connector on loopback. Teams' invokes are answered in the HTTP response."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from gateway.app import create_app
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from tests.support.processes import start_workers, stop_processes, worker_env
from turnstream.dev_token_service import DevTokenService
from turnstream.devconnector import DevConnector

pytestmark = pytest.mark.e2e

USER = "user-1"


async def test_sign_in_on_teams_by_verify_state_and_by_sso(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, service_url = connector
    tokens = DevTokenService()
    tokens.magic_codes[(USER, "graph", "424242")] = "teams-token"
    async with (
        serving(tokens.app) as token_service_url,
        serving(create_app(settings)) as gateway,
        aiohttp.ClientSession() as http,
    ):
        env = worker_env(settings) | {"TURNSTREAM_TOKEN_SERVICE_URL": token_service_url}
        workers = await start_workers(env, "samples.authentication:bot", 2)
        sent = 0

        async def say(conversation: str, text: str, replies: int) -> list[dict[str, Any]]:
            nonlocal sent
            sent += 1
            activity = message(
                text,
                activity_id=f"m{sent}",
                conversation=conversation,
                service_url=service_url,
                channel="msteams",
            )
            before = len(dev.activities())  # before posting: the reply may beat the 202 back
            status, _ = await post_json(http, f"{gateway}/api/messages", activity)
            assert status == 202
            await dev.wait_for(before + replies, within=30)
            return dev.activities()[before:]

        async def invoke(conversation: str, name: str, value: Any) -> tuple[int, Any]:
            nonlocal sent
            sent += 1
            activity = message(
                "",
                activity_id=f"i{sent}",
                conversation=conversation,
                service_url=service_url,
                channel="msteams",
            ) | {"type": "invoke", "name": name, "value": value}
            return await post_json(http, f"{gateway}/api/messages", activity)

        try:
            (card,) = await say("c1", "hi", 1)
            # A wrong or expired magic code signs no one in: the prompt waits on, silently.
            await say("c1", "my code is 111111", 0)
            oauth = card["attachments"][0]
            assert oauth["contentType"] == "application/vnd.microsoft.card.oauth"
            link = oauth["content"]["buttons"][0]["value"]
            assert link.startswith(f"{token_service_url}/signin?state=")

            before = len(dev.activities())
            assert await invoke("c1", "signin/verifyState", {"state": "000000"}) == (404, None)
            assert await invoke("c1", "signin/verifyState", {"state": "424242"}) == (200, None)
            await dev.wait_for(before + 2, within=30)
            logged_in, confirm = dev.activities()[before:]
            assert logged_in["text"] == "You are now logged in."
            hero = confirm["attachments"][0]["content"]  # Teams: the choices as a hero card
            assert hero["text"] == "Would you like to view your token?"
            (shown,) = await say("c1", "yes", 1)
            assert shown["text"] == "Here is your token teams-token"
            (signed_out,) = await say("c1", "logout", 1)
            assert signed_out["text"] == "You have been signed out."

            # Single sign-on in another conversation: refused (412) until the token service
            # can exchange the Teams token, then accepted with the exchange's id.
            await say("c2", "hi", 1)
            exchange = {"id": "x1", "connectionName": "graph", "token": "sso-token"}
            status, body = await invoke("c2", "signin/tokenExchange", exchange)
            assert status == 412, (status, body)
            assert body["failureDetail"] == (
                "The bot is unable to exchange token. Proceed with regular login."
            )
            tokens.exchangeable[(USER, "graph", "sso-token")] = "sso-graph-token"
            before = len(dev.activities())
            status, body = await invoke("c2", "signin/tokenExchange", exchange | {"id": "x2"})
            assert (status, body["id"], body["connectionName"]) == (200, "x2", "graph")
            await dev.wait_for(before + 2, within=30)
            assert dev.activities()[before]["text"] == "You are now logged in."

            # One Teams user on two clients: the same exchange id twice (two activities). One
            # sign-in, however the two land on the workers; the other is answered 200 alone.
            await say("c3", "logout", 1)
            (card,) = await say("c3", "hi", 1)
            assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.oauth"
            tokens.exchangeable[(USER, "graph", "sso-token-3")] = "sso-graph-token"
            before = len(dev.activities())
            exchange = {"id": "x3", "connectionName": "graph", "token": "sso-token-3"}
            answers = await asyncio.gather(
                *(invoke("c3", "signin/tokenExchange", exchange) for _ in range(3))
            )
            assert sorted(answers, key=lambda a: a[1] is None) == [
                (200, {"id": "x3", "connectionName": "graph"}),
                (200, None),
                (200, None),
            ]
            # Both answers are in, so both turns have ended and sent all they would.
            texts = [a.get("text") for a in dev.activities()[before:]]
            assert texts.count("You are now logged in.") == 1
        finally:
            errors = await stop_processes(workers)
    logs = "".join(errors)
    assert "Traceback" not in logs
    for secret in ("teams-token", "sso-graph-token", "sso-token", "424242"):
        assert secret not in logs  # tokens and codes are never logged
