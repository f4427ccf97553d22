"""TeamsInfo against a real loopback HTTP server standing in for the Bot Connector: the routes,
escaping, bodies and query strings Teams expects, the typed answers, and the connector's error
and retry rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.schema.activity import Activity, ChannelAccount
from tests.support.http import serving
from tests.support.recording_connector import Answer, RecordingConnector
from tests.support.teams import teams_activity
from worker.bot import conversations
from worker.bot.adapter import ConnectorAdapter
from worker.bot.teams import (
    BatchFailedEntry,
    ChannelInfo,
    MeetingStageSurface,
    TargetedMeetingNotification,
    TargetedMeetingNotificationValue,
    TeamMember,
    TeamsActivityHandler,
    TeamsChannelAccount,
    TeamsInfo,
)
from worker.bot.turn_context import TurnContext
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError, ForbiddenServiceUrl
from worker.connector.service_urls import OutboundPolicy

TEAM = "19%3Ateam-general%40thread.tacv2"


@pytest.fixture
async def client() -> AsyncIterator[ConnectorClient]:
    connector = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    yield connector
    await connector.aclose()


def context_at(connector: ConnectorClient, url: str, **fields: Any) -> TurnContext:
    wire = teams_activity("message", service_url=f"{url}/amer/", **fields)
    context = TurnContext(ConnectorAdapter(connector), Activity.from_dict(wire))
    context.turn_state[conversations.CONNECTOR_CLIENT_KEY] = connector
    return context


def routes(recording: RecordingConnector) -> list[tuple[str, str, str]]:
    return [(r.method, r.raw_path, r.query) for r in recording.requests]


async def test_team_details_channels_and_members(client: ConnectorClient) -> None:
    member = {"id": "29:u", "name": "Ada", "email": "ada@example.test", "userRole": "user"}
    recording = RecordingConnector(
        Answer(body={"id": "19:team", "name": "Contoso", "memberCount": 12, "channelCount": 2}),
        Answer(
            body={"conversations": [{"id": "19:a", "name": None}, {"id": "19:b", "name": "Dev"}]}
        ),
        Answer(body=[member]),
        Answer(body={"continuationToken": "next", "members": [member]}),
        Answer(body=member),
        Answer(body=member),
    )
    async with serving(recording.app) as url:
        context = context_at(client, url)
        details = await TeamsInfo.get_team_details(context)
        channels = await TeamsInfo.get_team_channels(context)
        members = await TeamsInfo.get_members(context)
        page = await TeamsInfo.get_paged_members(context, "tok", 2)
        one = await TeamsInfo.get_member(context, "29:u")
        other_team = await TeamsInfo.get_team_member(context, "19:other", "29:u")
    assert (details.name, details.member_count, details.channel_count) == ("Contoso", 12, 2)
    assert channels == [ChannelInfo(id="19:a"), ChannelInfo(id="19:b", name="Dev")]
    expected = TeamsChannelAccount(
        id="29:u", name="Ada", email="ada@example.test", user_role="user"
    )
    assert members == [expected] and page.members == [expected] and one == other_team == expected
    assert page.continuation_token == "next"
    assert routes(recording) == [
        ("GET", f"/amer/v3/teams/{TEAM}", ""),
        ("GET", f"/amer/v3/teams/{TEAM}/conversations", ""),
        ("GET", f"/amer/v3/conversations/{TEAM}/members", ""),
        ("GET", f"/amer/v3/conversations/{TEAM}/pagedmembers", "pageSize=2&continuationToken=tok"),
        ("GET", f"/amer/v3/conversations/{TEAM}/members/29%3Au", ""),
        ("GET", "/amer/v3/conversations/19%3Aother/members/29%3Au", ""),
    ]


async def test_outside_a_team_members_are_the_chats(client: ConnectorClient) -> None:
    recording = RecordingConnector(Answer(body=[{"id": "29:u"}]), Answer(body={"members": []}))
    async with serving(recording.app) as url:
        context = context_at(client, url, channel_data={"team": None})
        context.activity.conversation.id = "a:chat-1"  # type: ignore[union-attr]
        assert await TeamsInfo.get_members(context) == [TeamsChannelAccount(id="29:u")]
        assert (await TeamsInfo.get_paged_members(context)).members == []
        with pytest.raises(TypeError, match="only in a Teams team"):
            await TeamsInfo.get_team_details(context)
    assert routes(recording) == [
        ("GET", "/amer/v3/conversations/a%3Achat-1/members", ""),
        ("GET", "/amer/v3/conversations/a%3Achat-1/pagedmembers", ""),
    ]


async def test_meetings(client: ConnectorClient) -> None:
    recording = RecordingConnector(
        Answer(
            body={
                "user": {"id": "29:u", "name": "Ada"},
                "meeting": {"role": "Presenter", "inMeeting": True},
                "conversation": {"id": "19:meeting", "isGroup": True},
            }
        ),
        Answer(body={"details": {"id": "m-1", "title": "Standup"}, "organizer": {"id": "29:o"}}),
        Answer(status=202),
        Answer(
            status=207,
            body={"recipientsFailureInfo": [{"recipientMri": "29:x", "errorcode": "NotInMeeting"}]},
        ),
    )
    async with serving(recording.app) as url:
        context = context_at(client, url, channel_data={"meeting": {"id": "m-1"}})
        participant = await TeamsInfo.get_meeting_participant(context)
        info = await TeamsInfo.get_meeting_info(context)
        notification = TargetedMeetingNotification(
            value=TargetedMeetingNotificationValue(
                recipients=["29:u"], surfaces=[MeetingStageSurface(content={"x": 1})]
            )
        )
        all_reached = await TeamsInfo.send_meeting_notification(context, notification)
        some_failed = await TeamsInfo.send_meeting_notification(context, notification, "m-2")
    assert participant.meeting is not None and participant.meeting.role == "Presenter"
    assert info.details is not None and info.details.title == "Standup"
    assert all_reached.recipients_failure_info is None
    assert some_failed.recipients_failure_info is not None
    assert some_failed.recipients_failure_info[0].error_code == "NotInMeeting"
    assert routes(recording) == [
        ("GET", "/amer/v1/meetings/m-1/participants/aad-user-1", "tenantId=tenant-1"),
        ("GET", "/amer/v1/meetings/m-1", ""),
        ("POST", "/amer/v1/meetings/m-1/notification", ""),
        ("POST", "/amer/v1/meetings/m-2/notification", ""),
    ]
    assert recording.requests[2].body == notification.to_dict()


async def test_a_message_to_a_channel_starts_a_thread(client: ConnectorClient) -> None:
    recording = RecordingConnector(
        Answer(body={"id": "19:channel@thread.tacv2;messageid=9", "activityId": "9"})
    )
    async with serving(recording.app) as url:
        context = context_at(client, url)
        reference, activity_id = await TeamsInfo.send_message_to_teams_channel(
            context, Activity(type="message", text="New thread"), "19:channel@thread.tacv2"
        )
    assert activity_id == "9"
    assert reference.conversation is not None
    assert reference.conversation.id == "19:channel@thread.tacv2;messageid=9"
    assert (reference.channel_id, reference.service_url) == ("msteams", f"{url}/amer/")
    assert reference.bot is not None and reference.bot.id == "28:bot-1"
    request = recording.last
    assert (request.method, request.raw_path) == ("POST", "/amer/v3/conversations")
    assert request.body == {
        "isGroup": True,
        "bot": {"id": "28:bot-1", "name": "Bot"},
        "tenantId": "tenant-1",
        "activity": {"type": "message", "text": "New thread"},
        "channelData": {"channel": {"id": "19:channel@thread.tacv2"}},
    }


async def test_batch_operations(client: ConnectorClient) -> None:
    recording = RecordingConnector(
        Answer(status=201, body={"operationId": "op-1"}),
        Answer(status=201, body={"operationId": "op-2"}),
        Answer(status=201, body={"operationId": "op-3"}),
        Answer(status=201, body="op-4"),
        Answer(
            body={"state": "Completed", "statusMap": {"201": 2, "404": 1}, "totalEntriesCount": 3}
        ),
        Answer(
            body={
                "continuationToken": "c",
                "failedEntryResponses": [{"id": "29:x", "error": "NotFound"}],
            }
        ),
        Answer(status=200),
    )
    message = Activity(type="message", text="Hello all")
    members = [TeamMember(id="29:a"), TeamMember(id="29:b")]
    async with serving(recording.app) as url:
        context = context_at(client, url)
        ids = [
            await TeamsInfo.send_message_to_list_of_users(context, message, members, "tenant-1"),
            await TeamsInfo.send_message_to_all_users_in_tenant(context, message, "tenant-1"),
            await TeamsInfo.send_message_to_all_users_in_team(context, message, "19:t", "tenant-1"),
            await TeamsInfo.send_message_to_list_of_channels(
                context, message, [TeamMember(id="19:c")], "tenant-1"
            ),
        ]
        state = await TeamsInfo.get_operation_state(context, "op-1")
        failed = await TeamsInfo.get_paged_failed_entries(context, "op-1", "c0")
        await TeamsInfo.cancel_operation(context, "op-1")
    assert ids == ["op-1", "op-2", "op-3", "op-4"]
    assert (state.state, state.status_map, state.total_entries_count) == (
        "Completed",
        {"201": 2, "404": 1},
        3,
    )
    assert failed.failed_entries == [BatchFailedEntry(entry_id="29:x", error="NotFound")]
    assert failed.continuation_token == "c"
    assert routes(recording) == [
        ("POST", "/amer/v3/batch/conversation/users/", ""),
        ("POST", "/amer/v3/batch/conversation/tenant/", ""),
        ("POST", "/amer/v3/batch/conversation/team/", ""),
        ("POST", "/amer/v3/batch/conversation/channels/", ""),
        ("GET", "/amer/v3/batch/conversation/op-1", ""),
        ("GET", "/amer/v3/batch/conversation/failedentries/op-1", "continuationToken=c0"),
        ("DELETE", "/amer/v3/batch/conversation/op-1", ""),
    ]
    wire_message = {"type": "message", "text": "Hello all"}
    assert [r.body for r in recording.requests[:4]] == [
        {
            "members": [{"id": "29:a"}, {"id": "29:b"}],
            "activity": wire_message,
            "tenantId": "tenant-1",
        },
        {"activity": wire_message, "tenantId": "tenant-1"},
        {"activity": wire_message, "teamId": "19:t", "tenantId": "tenant-1"},
        {"members": [{"id": "19:c"}], "activity": wire_message, "tenantId": "tenant-1"},
    ]


async def test_batch_sends_need_their_arguments(client: ConnectorClient) -> None:
    context = context_at(client, "http://127.0.0.1:9")
    with pytest.raises(ValueError, match="teams_members is required"):
        await TeamsInfo.send_message_to_list_of_users(context, Activity(type="message"), [], "t")
    with pytest.raises(ValueError, match="tenant_id is required"):
        await TeamsInfo.send_message_to_all_users_in_tenant(context, Activity(type="message"), "")


async def test_errors_carry_the_services_code_and_throttling_is_retried(
    client: ConnectorClient,
) -> None:
    error = {"error": {"code": "BadSyntax", "message": "Tenant id is invalid"}}
    recording = RecordingConnector(
        Answer(status=429, headers={"Retry-After": "0"}),
        Answer(status=201, body={"operationId": "op-1"}),
        Answer(status=400, body=error),
    )
    async with serving(recording.app) as url:
        context = context_at(client, url)
        message = Activity(type="message", text="hi")
        assert await TeamsInfo.send_message_to_all_users_in_tenant(context, message, "t") == "op-1"
        with pytest.raises(ConnectorError) as raised:
            await TeamsInfo.send_message_to_all_users_in_tenant(context, message, "bad")
    assert (raised.value.status, raised.value.code) == (400, "BadSyntax")
    assert raised.value.message == "Tenant id is invalid"
    assert len(recording.requests) == 3


async def test_the_outbound_policy_holds_for_teams_routes() -> None:
    strict = ConnectorClient.create(timeout_seconds=5)  # private addresses refused
    context = context_at(strict, "http://127.0.0.1:9")
    with pytest.raises(ForbiddenServiceUrl):
        await TeamsInfo.get_team_details(context)
    await strict.aclose()


class Welcomer(TeamsActivityHandler):
    def __init__(self) -> None:
        self.added: list[TeamsChannelAccount] = []

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: Any,
        turn_context: TurnContext,
    ) -> None:
        self.added.extend(teams_members_added)


async def test_members_added_with_only_ids_are_fetched_from_teams(client: ConnectorClient) -> None:
    recording = RecordingConnector(
        Answer(body={"id": "29:new", "name": "Grace", "email": "grace@example.test"}),
        Answer(status=404, body={"error": {"code": "ConversationNotFound", "message": "gone"}}),
    )
    bot = Welcomer()
    async with serving(recording.app) as url:
        context = context_at(client, url)
        context.activity.type = "conversationUpdate"
        context.activity.members_added = [
            ChannelAccount(id="29:new", aad_object_id="aad-new"),
            ChannelAccount(id="29:gone", name="Gone"),
        ]
        await bot.on_turn(context)
    assert bot.added == [
        TeamsChannelAccount(id="29:new", name="Grace", email="grace@example.test"),
        TeamsChannelAccount(id="29:gone", name="Gone"),
    ]
    assert [r.raw_path for r in recording.requests] == [
        f"/amer/v3/conversations/{TEAM}/members/29%3Anew",
        f"/amer/v3/conversations/{TEAM}/members/29%3Agone",
    ]
