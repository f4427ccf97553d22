"""The dev connector's Teams routes: `TeamsInfo` works under `turnstream dev`."""

from __future__ import annotations

import pytest

from shared.schema.activity import Activity
from tests.support.http import serving
from tests.support.teams import teams_activity
from turnstream.devconnector import DevConnector, describe
from worker.bot import conversations
from worker.bot.adapter import ConnectorAdapter
from worker.bot.teams import TeamMember, TeamsInfo
from worker.bot.turn_context import TurnContext
from worker.connector import bodies
from worker.connector.client import ConnectorClient
from worker.connector.errors import ConnectorError
from worker.connector.service_urls import OutboundPolicy


async def test_teams_info_against_the_dev_connector() -> None:
    dev = DevConnector(echo_log=False)
    client = ConnectorClient.create(timeout_seconds=5, policy=OutboundPolicy(allow_private=True))
    async with serving(dev.app) as url:
        wire = teams_activity("message", service_url=url, channel_data={"meeting": {"id": "m1"}})
        context = TurnContext(ConnectorAdapter(client), Activity.from_dict(wire))
        context.turn_state[conversations.CONNECTOR_CLIENT_KEY] = client
        team = await TeamsInfo.get_team_details(context)
        channels = await TeamsInfo.get_team_channels(context)
        meeting = await TeamsInfo.get_meeting_info(context)
        participant = await TeamsInfo.get_meeting_participant(context)
        operation = await TeamsInfo.send_message_to_list_of_users(
            context, Activity(type="message", text="hi"), [TeamMember(id="29:a")], "tenant-1"
        )
        state = await TeamsInfo.get_operation_state(context, operation)
        failed = await TeamsInfo.get_paged_failed_entries(context, operation)
        await TeamsInfo.cancel_operation(context, operation)
        with pytest.raises(ConnectorError) as missing:
            await client.call("GET", url, "v3/teams/t/unknown", None, bodies.json_or_none)
    await client.aclose()
    assert (team.id, team.name) == ("19:team-general@thread.tacv2", "Contoso")
    assert [c.name for c in channels] == [None, "Announcements"]
    assert meeting.details is not None and meeting.details.title == "Standup"
    assert participant.user is not None and participant.user.tenant_id == "tenant-1"
    assert operation == "dev-operation-1"
    assert (state.state, failed.failed_entries) == ("Completed", [])
    assert (missing.value.status, missing.value.code) == (404, "NotFound")
    assert describe(dev.received[0]) == "GET /v3/teams/19:team-general@thread.tacv2"
