"""The `teams_get_*` helpers and `teams_notify_user`."""

from __future__ import annotations

from shared.schema.activity import Activity
from tests.support.teams import teams_activity
from worker.bot.teams import (
    NotificationInfo,
    TeamInfo,
    TeamsChannelData,
    TeamsMeetingInfo,
    teams_get_channel_id,
    teams_get_meeting_info,
    teams_get_selected_channel_id,
    teams_get_team_info,
    teams_notify_user,
)


def test_reading_the_channel_data() -> None:
    activity = Activity.from_dict(
        teams_activity(
            "message",
            channel_data={
                "meeting": {"id": "m-1"},
                "settings": {"selectedChannel": {"id": "19:picked@thread.tacv2"}},
            },
        )
    )
    assert teams_get_channel_id(activity) == "19:team-general@thread.tacv2"
    assert teams_get_selected_channel_id(activity) == "19:picked@thread.tacv2"
    assert teams_get_team_info(activity) == TeamInfo(
        id="19:team-general@thread.tacv2", name="Contoso", aad_group_id="group-1"
    )
    assert teams_get_meeting_info(activity) == TeamsMeetingInfo(id="m-1")


def test_an_activity_without_teams_channel_data() -> None:
    plain = Activity(type="message")
    for helper in (teams_get_channel_id, teams_get_selected_channel_id, teams_get_team_info):
        assert helper(plain) is None
        assert helper(None) is None
    assert teams_get_selected_channel_id(Activity.from_dict(teams_activity("message"))) is None


def test_notify_user_keeps_the_channel_data_and_is_sent_in_wire_form() -> None:
    reply = Activity(type="message", text="ping", channel_data={"custom": 1})
    teams_notify_user(reply, alert_in_meeting=True, external_resource_url="https://x.test")
    assert isinstance(reply.channel_data, TeamsChannelData)
    assert reply.channel_data.notification == NotificationInfo(
        alert=False, alert_in_meeting=True, external_resource_url="https://x.test"
    )
    assert reply.to_dict()["channelData"] == {
        "custom": 1,
        "notification": {
            "alert": False,
            "alertInMeeting": True,
            "externalResourceUrl": "https://x.test",
        },
    }
    bare = Activity(type="message")
    teams_notify_user(bare)
    assert bare.to_dict()["channelData"] == {"notification": {"alert": True}}
