"""The Teams sample turn by turn through the test kit: @mention, a card updated in place, the
task module launcher, greetings; its invokes are covered end to end in tests/test_teams_e2e.py."""

from __future__ import annotations

from typing import Any

from samples.teams_bot import TeamsConversationBot
from shared.schema.activity import Activity
from tests.support.teams import teams_activity
from worker.bot.testing import TestAdapter


async def turn(adapter: TestAdapter, kind: str = "message", **fields: Any) -> list[Activity]:
    await adapter.receive_activity(Activity.from_dict(teams_activity(kind, **fields)))
    sent = list(adapter.activity_buffer)
    adapter.activity_buffer.clear()
    return sent


async def test_mention_update_card_and_form() -> None:
    adapter = TestAdapter(TeamsConversationBot().on_turn)
    at_bot = {"type": "mention", "mentioned": {"id": "28:bot-1"}, "text": "<at>Bot</at>"}
    (mention,) = await turn(adapter, text="<at>Bot</at> mention me", entities=[at_bot])
    assert mention.text == "Hello <at>Ada</at>."
    assert mention.entities is not None
    assert mention.entities[0].to_dict()["mentioned"]["id"] == "29:user-1"

    (card,) = await turn(adapter, text="update card")
    assert card.attachments is not None
    assert card.attachments[0].content["text"] == "Updated 0 times"
    await turn(adapter, value={"action": "update", "count": 0}, replyToId="reply-2")
    (updated,) = adapter.updated_activities
    assert updated.id == "reply-2"
    assert updated.attachments is not None
    assert updated.attachments[0].content["text"] == "Updated 1 times"

    (launcher,) = await turn(adapter, text="form")
    assert launcher.attachments is not None
    button = launcher.attachments[0].content["buttons"][0]
    assert (button["type"], button["value"]) == ("invoke", {"type": "task/fetch"})


async def test_new_members_and_channels_are_greeted() -> None:
    adapter = TestAdapter(TeamsConversationBot().on_turn)
    greetings = await turn(
        adapter,
        "conversationUpdate",
        membersAdded=[{"id": "28:bot-1"}, {"id": "29:new", "name": "Grace", "userRole": "user"}],
    )
    assert [a.text for a in greetings] == ["Welcome to the team, Grace!"]
    renamed = await turn(
        adapter,
        "conversationUpdate",
        channel_data={"eventType": "channelRenamed", "channel": {"id": "19:c", "name": "News"}},
    )
    assert [a.text for a in renamed] == ["A channel is now called News"]
