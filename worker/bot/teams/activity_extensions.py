"""Reading Teams' channel data off an activity, and asking Teams to notify the user of a reply:
botbuilder-python's `teams_get_*` and `teams_notify_user` functions."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import Activity
from worker.bot.teams.channel_data import (
    NotificationInfo,
    OnBehalfOf,
    TeamInfo,
    TeamsChannelData,
    TeamsMeetingInfo,
)


def teams_get_channel_data(activity: Activity | None) -> TeamsChannelData | None:
    """The activity's channel data as `TeamsChannelData`, or None when it has none."""
    if activity is None or not activity.channel_data:
        return None
    return as_teams_channel_data(activity.channel_data)


def as_teams_channel_data(channel_data: Any) -> TeamsChannelData:
    """`channel_data` as wire JSON (what a channel sends) or already a `TeamsChannelData`
    (what `teams_notify_user` leaves) as a `TeamsChannelData`; anything else reads as empty."""
    if isinstance(channel_data, TeamsChannelData):
        return channel_data
    if isinstance(channel_data, dict):
        return TeamsChannelData.from_dict(channel_data)
    return TeamsChannelData()


def teams_get_channel_id(activity: Activity | None) -> str | None:
    """The id of the Teams channel the activity came from (None outside a channel)."""
    channel_data = teams_get_channel_data(activity)
    return channel_data.channel.id if channel_data and channel_data.channel else None


def teams_get_selected_channel_id(activity: Activity | None) -> str | None:
    """The channel the user had selected, in the settings of the channel data (on install)."""
    channel_data = teams_get_channel_data(activity)
    if channel_data is None or channel_data.settings is None:
        return None
    selected = channel_data.settings.selected_channel
    return selected.id if selected else None


def teams_get_team_info(activity: Activity | None) -> TeamInfo | None:
    """The team the activity came from (None outside a team)."""
    channel_data = teams_get_channel_data(activity)
    return channel_data.team if channel_data else None


def teams_get_meeting_info(activity: Activity | None) -> TeamsMeetingInfo | None:
    """The meeting the activity came from (None outside a meeting)."""
    channel_data = teams_get_channel_data(activity)
    return channel_data.meeting if channel_data else None


def teams_get_team_on_behalf_of(activity: Activity | None) -> list[OnBehalfOf] | None:
    """Who the activity was sent on behalf of, when Teams says."""
    channel_data = teams_get_channel_data(activity)
    return channel_data.on_behalf_of if channel_data else None


def teams_notify_user(
    activity: Activity | None,
    alert_in_meeting: bool | None = None,
    external_resource_url: str | None = None,
) -> None:
    """Ask Teams to alert the user of this (outgoing) activity: in their activity feed, or in
    the meeting when `alert_in_meeting`. The activity's channel data becomes a
    `TeamsChannelData` (as in botbuilder), keeping what it held."""
    if activity is None:
        return
    channel_data = as_teams_channel_data(activity.channel_data or {})
    channel_data.notification = NotificationInfo(
        alert=not alert_in_meeting,
        alert_in_meeting=alert_in_meeting,
        external_resource_url=external_resource_url,
    )
    activity.channel_data = channel_data
