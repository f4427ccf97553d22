"""The dev token service's sign-in page: a link a bot made signs its user in with a magic
code the bot can redeem; anything else is refused with a 400."""

from __future__ import annotations

import base64
import re

import aiohttp
import orjson

from tests.support.http import serving
from turnstream.dev_token_service import DevTokenService
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy
from worker.connector.token_service import TokenServiceClient


def _state(user: str, connection: str) -> str:
    state = {
        "connectionName": connection,
        "conversation": {"user": {"id": user}, "channelId": "emulator"},
    }
    return base64.b64encode(orjson.dumps(state)).decode()


async def test_the_sign_in_page_gives_a_code_the_bot_redeems_once() -> None:
    tokens = DevTokenService()
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(tokens.app) as url, aiohttp.ClientSession() as http:
        client = TokenServiceClient(connector, url)
        resource = await client.get_sign_in_resource(_state("ada", "graph"))
        assert resource.sign_in_link is not None
        async with http.get(resource.sign_in_link) as page:
            assert page.status == 200
            shown = await page.text()
        code = re.search(r'id="magic-code">(\d{6})<', shown)
        assert code is not None and "graph as ada" in shown
        assert await client.get_token("ada", "graph", "emulator", "000000") is None
        token = await client.get_token("ada", "graph", "emulator", code.group(1))
        assert token is not None and token.token and token.token.startswith("dev-token-")
        assert await client.get_token("bob", "graph", "emulator", code.group(1)) is None
    await connector.aclose()


async def test_a_link_the_bot_did_not_make_is_refused() -> None:
    async with serving(DevTokenService().app) as url, aiohttp.ClientSession() as http:
        for state in ("not-base64!", base64.b64encode(b"[1]").decode(), ""):
            async with http.get(f"{url}/signin", params={"state": state}) as page:
                assert page.status == 400
                assert "not one a bot made" in await page.text()
