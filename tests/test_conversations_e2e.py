"""Bot code using the Bot Connector's other operations from a real worker: members, and a new
conversation with a proactive turn in it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from gateway.app import create_app
from shared.schema.activity import ChannelAccount, ConversationParameters
from shared.settings import Settings
from tests.support.activities import message
from tests.support.http import post_json, serving
from turnstream.devconnector import DevConnector
from worker.bot.activity_handler import ActivityHandler
from worker.bot.conversations import get_conversation_members
from worker.bot.turn_context import TurnContext
from worker.runtime.process import run_worker

pytestmark = pytest.mark.e2e


class MembersBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.text == "hi":
            await turn_context.send_activity("hi there")
        elif activity.text == "members":
            members = await get_conversation_members(turn_context)
            await turn_context.send_activity(" ".join(sorted(m.id or "?" for m in members)))
        elif activity.text == "new chat":
            assert activity.service_url and activity.channel_id and activity.from_property
            created = await turn_context.adapter.create_conversation(
                activity.channel_id,
                activity.service_url,
                ConversationParameters(
                    bot=ChannelAccount(id="bot-1", name="Bot"),
                    members=[activity.from_property],
                    tenant_id="t-1",
                ),
                self.greet,
            )
            await turn_context.send_activity(f"started {created.id}")

    async def greet(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity("hello in the new chat")


async def test_bot_code_reads_members_and_starts_a_conversation(
    settings: Settings, connector: tuple[DevConnector, str]
) -> None:
    dev, url = connector
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, MembersBot(), concurrency=4, handle_signals=False, stop=stop)
    )
    async with serving(create_app(settings)) as gateway, aiohttp.ClientSession() as http:
        for n, text in enumerate(["hi", "members", "new chat"]):
            activity = message(text, activity_id=f"a{n}", conversation="c-1", service_url=url)
            assert (await post_json(http, f"{gateway}/api/messages", activity))[0] == 202
        received = await dev.wait_for(6, within=10)
    stop.set()
    await worker

    posted = [(r.method, r.path, (r.body or {}).get("text")) for r in received]
    assert posted[0] == ("POST", "/v3/conversations/c-1/activities/a0", "hi there")
    assert posted[1] == ("GET", "/v3/conversations/c-1/members", None)
    # The dev connector knows the accounts its conversation's activities went between.
    assert posted[2] == ("POST", "/v3/conversations/c-1/activities/a1", "bot-1 user-1")
    assert posted[3][:2] == ("POST", "/v3/conversations")
    created = received[3].body
    assert created["members"] == [{"id": "user-1", "name": "user-1 name"}]
    assert created["tenantId"] == "t-1"
    # The reply in c-1 and the greeting, a proactive turn queued in the new conversation, run
    # in two turns at once: either may reach the connector first.
    (reply,) = [p for p in posted[4:] if p[1] == "/v3/conversations/c-1/activities/a2"]
    new_id = str(reply[2]).removeprefix("started ")
    assert sorted(posted[4:]) == sorted(
        [reply, ("POST", f"/v3/conversations/{new_id}/activities", "hello in the new chat")]
    )
