"""The Teams schema: botbuilder's names and constructors, Teams' wire names, and round trips
through the wire format that keep what Teams sent."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from shared.schema.activity import Activity, Attachment, Model
from worker.bot import teams
from worker.bot.teams import (
    BotConfigAuth,
    ConfigAuthResponse,
    ConfigTaskResponse,
    MeetingDetails,
    MeetingInfo,
    MeetingParticipantsEventDetails,
    MeetingStageSurface,
    MeetingStartEventDetails,
    MessagingExtensionAction,
    NotificationInfo,
    O365ConnectorCard,
    O365ConnectorCardActionCard,
    O365ConnectorCardActionQuery,
    O365ConnectorCardHttpPOST,
    O365ConnectorCardSection,
    O365ConnectorCardTextInput,
    OnBehalfOf,
    ReadReceiptInfo,
    TabSubmit,
    TargetedMeetingNotification,
    TargetedMeetingNotificationValue,
    TaskModuleCardResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TeamsChannelAccount,
    TeamsChannelData,
    TeamsPagedMembersResult,
)

ROOT = Path(__file__).resolve().parents[4]
SNAPSHOT = json.loads((ROOT / "docs" / "compatibility" / "botbuilder-4.17.1.json").read_text())

MODELS = [
    cls
    for _, cls in inspect.getmembers(teams, inspect.isclass)
    if issubclass(cls, Model) and dataclasses.is_dataclass(cls)
]


def test_every_botbuilder_teams_schema_name_is_exported() -> None:
    assert set(SNAPSHOT["botbuilder.schema.teams"]) <= set(teams.__all__)


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
def test_each_class_builds_the_same_from_the_wire_as_from_its_constructor(
    model: type[Model],
) -> None:
    assert model.from_dict({}) == model()
    built = model.from_dict({"unknownField": 1})
    assert built.additional_properties == {"unknownField": 1}
    assert built.to_dict() == model().to_dict() | {"unknownField": 1}


CHANNEL_DATA = {
    "eventType": "channelCreated",
    "channel": {"id": "19:c@thread.tacv2", "name": "General", "type": "standard"},
    "team": {"id": "19:t@thread.tacv2", "name": "Contoso", "aadGroupId": "g"},
    "tenant": {"id": "tenant-1"},
    "meeting": {"id": "meeting-1"},
    "notification": {"alert": True, "alertInMeeting": False},
    "settings": {"selectedChannel": {"id": "19:s@thread.tacv2"}},
    "onBehalfOf": [
        {"itemid": 0, "mentionType": "person", "mri": "8:orgid:1", "displayName": "Ada"}
    ],
    "source": {"name": "message"},
}


def test_channel_data_reads_every_part_and_writes_back_what_it_read() -> None:
    data = TeamsChannelData.from_dict(CHANNEL_DATA)
    assert data.channel is not None and data.channel.type == "standard"
    assert data.team is not None and data.team.aad_group_id == "g"
    assert data.settings is not None and data.settings.selected_channel is not None
    assert data.on_behalf_of == [OnBehalfOf(item_id=0, mri="8:orgid:1", display_name="Ada")]
    assert data.notification == NotificationInfo(alert=True, alert_in_meeting=False)
    assert data.additional_properties == {"source": {"name": "message"}}
    assert data.to_dict() == CHANNEL_DATA


def test_teams_accounts_and_pages() -> None:
    wire = {
        "id": "29:u",
        "name": "Ada",
        "aadObjectId": "aad",
        "givenName": "Ada",
        "surname": "Lovelace",
        "email": "ada@example.test",
        "userPrincipalName": "ada@example.test",
        "tenantId": "tenant-1",
        "userRole": "user",
    }
    account = TeamsChannelAccount.from_dict(wire)
    assert (account.given_name, account.user_principal_name, account.user_role) == (
        "Ada",
        "ada@example.test",
        "user",
    )
    assert account.to_dict() == wire
    page = TeamsPagedMembersResult.from_dict({"continuationToken": "t", "members": [wire]})
    assert page.members == [account]


def test_task_module_responses_carry_their_type() -> None:
    assert TaskModuleContinueResponse().to_dict() == {"type": "continue"}
    assert TaskModuleMessageResponse(value="Done").to_dict() == {"type": "message", "value": "Done"}
    assert TaskModuleCardResponse().to_dict() == {"type": "continue"}
    assert BotConfigAuth().to_dict() == {"type": "auth"}
    assert ConfigTaskResponse().to_dict() == {"responseType": "config", "config": {}}
    assert ConfigAuthResponse().to_dict() == {"responseType": "config", "config": {"type": "auth"}}


def test_tab_invokes_read_their_context_from_tab_context() -> None:
    wire = {
        "tabContext": {"tabEntityId": "home"},
        "context": {"theme": "dark"},
        "data": {"type": "tab/submit", "properties": {"name": "x"}},
    }
    submit = TabSubmit.from_dict(wire)
    assert submit.tab_entity_context is not None
    assert submit.tab_entity_context.tab_entity_id == "home"
    assert submit.data is not None and submit.data.properties == {"name": "x"}
    assert submit.to_dict() == wire


def test_a_message_action_reads_the_previewed_activities_and_the_message() -> None:
    wire: dict[str, Any] = {
        "commandId": "share",
        "commandContext": "message",
        "botMessagePreviewAction": "send",
        "botActivityPreview": [{"type": "message", "attachments": [{"contentType": "x"}]}],
        "messagePayload": {"id": "1", "from": {"user": {"id": "29:u"}}, "mentions": [{"id": 0}]},
        "data": {"title": "t"},
        "context": {"theme": "default"},
    }
    action = MessagingExtensionAction.from_dict(wire)
    assert action.bot_activity_preview is not None
    assert isinstance(action.bot_activity_preview[0], Activity)
    assert action.bot_activity_preview[0].attachments == [Attachment(content_type="x")]
    assert action.message_payload is not None and action.message_payload.mentions is not None
    assert action.message_payload.from_property is not None
    assert action.to_dict() == wire


def test_connector_cards_write_at_type_and_at_id() -> None:
    card = O365ConnectorCard(
        title="Build",
        sections=[O365ConnectorCardSection(activity_title="Passed", markdown=True)],
        potential_action=[
            O365ConnectorCardActionCard(
                type="ActionCard",
                name="Comment",
                id="comment",
                inputs=[O365ConnectorCardTextInput(type="TextInput", id="text", is_multiline=True)],
                actions=[
                    O365ConnectorCardHttpPOST(type="HttpPOST", name="Send", id="send", body="{}")
                ],
            )
        ],
    )
    assert card.to_dict() == {
        "title": "Build",
        "sections": [{"activityTitle": "Passed", "markdown": True}],
        "potentialAction": [
            {
                "@type": "ActionCard",
                "name": "Comment",
                "@id": "comment",
                "inputs": [{"@type": "TextInput", "id": "text", "isMultiline": True}],
                "actions": [{"@type": "HttpPOST", "name": "Send", "@id": "send", "body": "{}"}],
            }
        ],
    }


def test_the_connector_card_query_takes_botbuilders_action_id_keyword() -> None:
    assert O365ConnectorCardActionQuery(body="{}", actionId="a").action_id == "a"
    assert O365ConnectorCardActionQuery(action_id="a") == O365ConnectorCardActionQuery(actionId="a")
    assert O365ConnectorCardActionQuery.from_dict({"actionId": "a"}).to_dict() == {"actionId": "a"}


def test_meeting_values_in_teams_wire_names() -> None:
    start = {
        "Id": "m",
        "JoinUrl": "https://j",
        "Title": "Standup",
        "MeetingType": "Scheduled",
        "StartTime": "2026-12-07T09:00:00Z",
    }
    details = MeetingStartEventDetails.from_dict(start)
    assert (details.id, details.join_url, details.start_time) == (
        "m",
        "https://j",
        start["StartTime"],
    )
    assert details.to_dict() == start
    info = MeetingInfo.from_dict(
        {
            "details": {
                "id": "m",
                "msGraphResourceId": "g",
                "joinUrl": "https://j",
                "type": "Scheduled",
            },
            "conversation": {"id": "19:meeting", "isGroup": True},
            "organizer": {"id": "29:o", "email": "o@example.test"},
        }
    )
    assert info.details == MeetingDetails(
        id="m", join_url="https://j", ms_graph_resource_id="g", type="Scheduled"
    )
    assert info.organizer is not None and info.organizer.email == "o@example.test"
    joined = MeetingParticipantsEventDetails.from_dict(
        {"members": [{"user": {"id": "29:u"}, "meeting": {"inMeeting": True, "role": "Organizer"}}]}
    )
    assert joined.members is not None and joined.members[0].meeting is not None
    assert joined.members[0].meeting.in_meeting is True


def test_a_targeted_meeting_notification() -> None:
    notification = TargetedMeetingNotification(
        value=TargetedMeetingNotificationValue(
            recipients=["29:u"], surfaces=[MeetingStageSurface(content={"value": 1})]
        )
    )
    assert notification.to_dict() == {
        "type": "targetedMeetingNotification",
        "value": {
            "recipients": ["29:u"],
            "surfaces": [
                {"surface": "meetingStage", "contentType": "task", "content": {"value": 1}}
            ],
        },
    }


@pytest.mark.parametrize(
    ("message", "last_read", "read"),
    [("5", "7", True), ("7", "7", True), ("8", "7", False), (None, "7", False), ("x", "7", False)],
)
def test_read_receipts(message: str | None, last_read: str, read: bool) -> None:
    assert ReadReceiptInfo.is_message_read(message, last_read) is read
    assert ReadReceiptInfo(last_read_message_id=last_read).is_message_read_instance(message) is read


def test_botbuilders_msrest_names_serialize_and_deserialize() -> None:
    data = TeamsChannelData().deserialize(CHANNEL_DATA)
    assert data == TeamsChannelData.from_dict(CHANNEL_DATA)
    assert data.serialize() == CHANNEL_DATA
