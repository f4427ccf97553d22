"""Teams meetings: their details, participants, start/end and join/leave event values, and the
in-meeting notifications a bot sends. botbuilder-python's names; wire names as Teams sends them
(the meeting start and end events use PascalCase: `StartTime`, `JoinUrl`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.schema.activity import ConversationAccount, Model
from worker.bot.teams.channel_data import OnBehalfOf, TeamsChannelAccount


@dataclass
class MeetingDetailsBase(Model):
    """What every description of a meeting has: its id, join URL and title."""

    id: str | None = None
    join_url: str | None = None
    title: str | None = None


@dataclass(kw_only=True)
class MeetingDetails(MeetingDetailsBase):
    """A meeting's details (`GET /v1/meetings/{meetingId}`): schedule, type, Graph id."""

    ms_graph_resource_id: str | None = None
    scheduled_start_time: str | None = None
    scheduled_end_time: str | None = None
    type: str | None = None


@dataclass
class MeetingInfo(Model):
    """A meeting (`TeamsInfo.get_meeting_info`): details, its chat and its organizer."""

    details: MeetingDetails | None = None
    conversation: ConversationAccount | None = None
    organizer: TeamsChannelAccount | None = None


_EVENT_WIRE: dict[str, str] = {
    "id": "Id",
    "join_url": "JoinUrl",
    "title": "Title",
    "meeting_type": "MeetingType",
}


@dataclass(kw_only=True)
class MeetingEventDetails(MeetingDetailsBase):
    """What the meeting start and end events share: the meeting and its type."""

    meeting_type: str | None = None

    _wire_names: ClassVar[dict[str, str]] = _EVENT_WIRE


@dataclass(kw_only=True)
class MeetingStartEventDetails(MeetingEventDetails):
    """The value of `application/vnd.microsoft.meetingStart`."""

    start_time: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {**_EVENT_WIRE, "start_time": "StartTime"}


@dataclass(kw_only=True)
class MeetingEndEventDetails(MeetingEventDetails):
    """The value of `application/vnd.microsoft.meetingEnd`."""

    end_time: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {**_EVENT_WIRE, "end_time": "EndTime"}


@dataclass
class MeetingParticipantInfo(Model):
    """A participant's role in a meeting and whether they are in it now."""

    role: str | None = None
    in_meeting: bool | None = None


@dataclass
class TeamsMeetingParticipant(Model):
    """A meeting participant (`TeamsInfo.get_meeting_participant`)."""

    user: TeamsChannelAccount | None = None
    meeting: MeetingParticipantInfo | None = None
    conversation: ConversationAccount | None = None


@dataclass
class UserMeetingDetails(Model):
    """A member's part in a meeting, in a join or leave event."""

    role: str | None = None
    in_meeting: bool | None = None


@dataclass
class TeamsMeetingMember(Model):
    """One member who joined or left a meeting."""

    user: TeamsChannelAccount | None = None
    meeting: UserMeetingDetails | None = None


@dataclass
class MeetingParticipantsEventDetails(Model):
    """The value of `application/vnd.microsoft.meetingParticipantJoin` / `...Leave`."""

    members: list[TeamsMeetingMember] | None = None


class SurfaceType:
    """Where an in-meeting notification shows (`Surface.type`)."""

    MEETING_STAGE = "meetingStage"
    MEETING_TAB_ICON = "meetingTabIcon"


@dataclass
class Surface(Model):
    """A place in the meeting UI a targeted notification is shown on."""

    type: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"type": "surface"}


@dataclass(kw_only=True)
class MeetingStageSurface(Surface):
    """Show content (a task module) on the meeting stage."""

    type: str | None = SurfaceType.MEETING_STAGE
    content_type: str | None = "task"
    content: Any = None


@dataclass(kw_only=True)
class MeetingTabIconSurface(Surface):
    """Badge the meeting tab of `tab_entity_id`."""

    type: str | None = SurfaceType.MEETING_TAB_ICON
    tab_entity_id: str | None = None


@dataclass
class TargetedMeetingNotificationValue(Model):
    """Who a targeted meeting notification is for (user MRIs) and where it shows."""

    recipients: list[str] | None = None
    surfaces: list[Surface] | None = None


@dataclass
class MeetingNotificationChannelData(Model):
    """Channel data of a meeting notification: who it is on behalf of."""

    on_behalf_of_list: list[OnBehalfOf] | None = None

    _wire_names: ClassVar[dict[str, str]] = {"on_behalf_of_list": "OnBehalfOf"}


@dataclass
class MeetingNotificationBase(Model):
    """Any notification `TeamsInfo.send_meeting_notification` sends; `type` says which."""

    type: str | None = None


@dataclass(kw_only=True)
class MeetingNotification(MeetingNotificationBase):
    """A meeting notification with a value."""

    value: TargetedMeetingNotificationValue | None = None


@dataclass(kw_only=True)
class TargetedMeetingNotification(MeetingNotification):
    """A notification shown to some participants only (`type` "targetedMeetingNotification")."""

    type: str | None = "targetedMeetingNotification"
    channel_data: MeetingNotificationChannelData | None = None


@dataclass
class MeetingNotificationRecipientFailureInfo(Model):
    """A recipient a meeting notification could not reach, and why."""

    recipient_mri: str | None = None
    error_code: str | None = None
    failure_reason: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"error_code": "errorcode"}


@dataclass
class MeetingNotificationResponse(Model):
    """What sending a meeting notification answers: the recipients it failed for, if any."""

    recipients_failure_info: list[MeetingNotificationRecipientFailureInfo] | None = None
