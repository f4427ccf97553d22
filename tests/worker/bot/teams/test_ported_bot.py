# The bot below is botbuilder-style code, written without None checks as such bots are.
# mypy: disable-error-code="union-attr,arg-type,index"
"""A Teams bot written the way botbuilder-python Teams bots are (msrest-style `deserialize`,
`TeamsInfo` statics, typed invoke responses), ported by changing its imports only, run through
the worker's adapter against a loopback Bot Connector.

Its imports were, under botbuilder:

    from botbuilder.core import CardFactory, MessageFactory, TurnContext
    from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo, teams_get_channel_id
    from botbuilder.schema import ActionTypes, CardAction, HeroCard, Mention, ...
    from botbuilder.schema.teams import TaskModuleResponse, TeamsChannelData, ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.schema.activity import Activity
from tests.support.http import serving
from tests.support.recording_connector import Answer, RecordingConnector
from tests.support.teams import TASK_FETCH_VALUE, invoke, teams_activity
from worker.bot import (
    ActionTypes,
    CardAction,
    CardFactory,
    HeroCard,
    Mention,
    MessageFactory,
    ThumbnailCard,
    TurnContext,
    conversations,
)
from worker.bot.adapter import ConnectorAdapter
from worker.bot.invoke import INVOKE_RESPONSE_KEY
from worker.bot.teams import (
    MessagingExtensionAttachment,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
    MessagingExtensionResult,
    TaskModuleContinueResponse,
    TaskModuleRequest,
    TaskModuleResponse,
    TaskModuleTaskInfo,
    TeamsActivityHandler,
    TeamsChannelData,
    TeamsInfo,
    teams_get_channel_id,
)
from worker.connector.client import ConnectorClient
from worker.connector.service_urls import OutboundPolicy


class PortedTeamsBot(TeamsActivityHandler):
    """botbuilder-style code, unchanged but for its imports."""

    def __init__(self, app_id: str) -> None:
        self._app_id = app_id

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        TurnContext.remove_recipient_mention(turn_context.activity)
        text = (turn_context.activity.text or "").strip()
        if text == "MentionMe":
            sender = turn_context.activity.from_property
            mention = Mention(mentioned=sender, text=f"<at>{sender.name}</at>", type="mention")
            reply = MessageFactory.text(f"Hello {mention.text}")
            reply.entities = [Mention().deserialize(mention.serialize())]
            await turn_context.send_activity(reply)
        elif text == "UpdateCardAction":
            data = turn_context.activity.value
            data["count"] += 1
            card = HeroCard(
                title="Welcome Card",
                text=f"Updated count - {data['count']}",
                buttons=[
                    CardAction(
                        type=ActionTypes.message_back,
                        title="Update Card",
                        value=data,
                        text="UpdateCardAction",
                    )
                ],
            )
            updated = MessageFactory.attachment(CardFactory.hero_card(card))
            updated.id = turn_context.activity.reply_to_id
            await turn_context.update_activity(updated)
        elif text == "Delete":
            await turn_context.delete_activity(turn_context.activity.reply_to_id)
        elif text == "WhoAmI":
            member = await TeamsInfo.get_member(
                turn_context, turn_context.activity.from_property.id
            )
            await turn_context.send_activity(f"You are {member.name} ({member.email})")
        elif text == "PostToChannel":
            channel_data = TeamsChannelData().deserialize(turn_context.activity.channel_data)
            channel_id = teams_get_channel_id(turn_context.activity)
            message = MessageFactory.text(f"Hello {channel_data.team.name}")
            _reference, activity_id = await TeamsInfo.send_message_to_teams_channel(
                turn_context, message, channel_id, bot_app_id=self._app_id
            )
            await turn_context.send_activity(f"Posted {activity_id}")

    async def on_teams_task_module_fetch(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        card = CardFactory.adaptive_card({"type": "AdaptiveCard", "version": "1.4", "body": []})
        task_info = TaskModuleTaskInfo(card=card, height=250, width=250, title="Adaptive Card")
        return TaskModuleResponse(task=TaskModuleContinueResponse(value=task_info))

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        search = query.parameters[0].value
        preview = CardFactory.thumbnail_card(ThumbnailCard(title=search))
        attachment = MessagingExtensionAttachment(
            content_type=CardFactory.content_types.hero_card,
            content=HeroCard(title=search),
            preview=preview,
        )
        return MessagingExtensionResponse(
            compose_extension=MessagingExtensionResult(
                type="result", attachment_layout="list", attachments=[attachment]
            )
        )


@pytest.fixture
async def client() -> AsyncIterator[ConnectorClient]:
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield connector
    await connector.aclose()


async def run(connector: ConnectorClient, url: str, wire: dict[str, Any]) -> TurnContext:
    wire = dict(wire, serviceUrl=f"{url}/")
    context = TurnContext(ConnectorAdapter(connector), Activity.from_dict(wire))
    context.turn_state[conversations.CONNECTOR_CLIENT_KEY] = connector
    await PortedTeamsBot("app-id").on_turn(context)
    return context


async def test_the_ported_conversation_bot(client: ConnectorClient) -> None:
    at_bot = {"type": "mention", "mentioned": {"id": "28:bot-1"}, "text": "<at>Bot</at>"}
    recording = RecordingConnector(
        Answer(body={"id": "r1"}),  # the mention reply
        Answer(body={"id": "card-1"}),  # the updated card
        Answer(status=200),  # the delete
        Answer(body={"id": "29:user-1", "name": "Ada", "email": "ada@example.test"}),
        Answer(body={"id": "r2"}),
        Answer(body={"id": "19:team-general@thread.tacv2;messageid=5", "activityId": "5"}),
        Answer(body={"id": "r3"}),
    )
    async with serving(recording.app) as url:
        await run(
            client, url, teams_activity("message", text="<at>Bot</at> MentionMe", entities=[at_bot])
        )
        await run(
            client,
            url,
            teams_activity(
                "message", text="UpdateCardAction", value={"count": 1}, replyToId="card-1"
            ),
        )
        await run(client, url, teams_activity("message", text="Delete", replyToId="card-1"))
        await run(client, url, teams_activity("message", text="WhoAmI"))
        await run(client, url, teams_activity("message", text="PostToChannel"))
    conversation = "19%3Ateam-general%40thread.tacv2%3Bmessageid%3D1"
    assert [(r.method, r.raw_path) for r in recording.requests] == [
        ("POST", f"/v3/conversations/{conversation}/activities/1%3Ateams"),
        ("PUT", f"/v3/conversations/{conversation}/activities/card-1"),
        ("DELETE", f"/v3/conversations/{conversation}/activities/card-1"),
        ("GET", "/v3/conversations/19%3Ateam-general%40thread.tacv2/members/29%3Auser-1"),
        ("POST", f"/v3/conversations/{conversation}/activities/1%3Ateams"),
        ("POST", "/v3/conversations"),
        ("POST", f"/v3/conversations/{conversation}/activities/1%3Ateams"),
    ]
    mention, updated, _, _, whoami, new_thread, posted = (r.body for r in recording.requests)
    assert mention["text"] == "Hello <at>Ada</at>"
    assert mention["entities"] == [
        {
            "type": "mention",
            "mentioned": {"id": "29:user-1", "name": "Ada", "aadObjectId": "aad-user-1"},
            "text": "<at>Ada</at>",
        }
    ]
    assert updated["attachments"][0]["content"]["text"] == "Updated count - 2"
    assert whoami["text"] == "You are Ada (ada@example.test)"
    assert new_thread["activity"]["text"] == "Hello Contoso"
    assert new_thread["channelData"] == {"channel": {"id": "19:team-general@thread.tacv2"}}
    assert posted["text"] == "Posted 5"


async def test_the_ported_task_module_and_search_extension(client: ConnectorClient) -> None:
    async with serving(RecordingConnector().app) as url:
        fetched = await run(client, url, invoke("task/fetch", TASK_FETCH_VALUE))
        searched = await run(
            client,
            url,
            invoke(
                "composeExtension/query",
                {"commandId": "q", "parameters": [{"name": "q", "value": "cats"}]},
            ),
        )
    task = fetched.turn_state[INVOKE_RESPONSE_KEY].value
    assert task.status == 200
    assert task.body["task"]["value"]["title"] == "Adaptive Card"
    search = searched.turn_state[INVOKE_RESPONSE_KEY].value.body
    (result,) = search["composeExtension"]["attachments"]
    assert result == {
        "contentType": "application/vnd.microsoft.card.hero",
        "content": {"title": "cats"},
        "preview": {
            "contentType": "application/vnd.microsoft.card.thumbnail",
            "content": {"title": "cats"},
        },
    }
