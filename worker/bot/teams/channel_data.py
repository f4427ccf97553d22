"""What Teams puts in an activity's `channelData` (team, channel, tenant, meeting, event type),
and the Teams views of accounts, teams and channels that the Teams REST routes return.
botbuilder-python's `botbuilder.schema.teams` names; camelCase on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.schema.activity import ChannelAccount, Model, PagedMembersResult


@dataclass
class ChannelInfo(Model):
    """A channel of a team: its id (`19:...@thread.tacv2`), name and type."""

    id: str | None = None
    name: str | None = None
    type: str | None = None


@dataclass
class TeamInfo(Model):
    """The team an activity came from: its id, name and Azure AD group id."""

    id: str | None = None
    name: str | None = None
    aad_group_id: str | None = None


@dataclass
class TeamDetails(Model):
    """What `GET /v3/teams/{teamId}` says of a team."""

    id: str | None = None
    name: str | None = None
    aad_group_id: str | None = None
    member_count: int | None = None
    channel_count: int | None = None
    type: str | None = None


@dataclass
class ConversationList(Model):
    """The channels of a team (`GET /v3/teams/{teamId}/conversations`)."""

    conversations: list[ChannelInfo] | None = None


@dataclass
class TenantInfo(Model):
    """The Microsoft 365 tenant an activity belongs to."""

    id: str | None = None


@dataclass
class NotificationInfo(Model):
    """How Teams notifies the user of a message: an alert, in a meeting, with a page to open."""

    alert: bool | None = None
    alert_in_meeting: bool | None = None
    external_resource_url: str | None = None


@dataclass
class TeamsMeetingInfo(Model):
    """The meeting an activity belongs to: its id (for `TeamsInfo.get_meeting_info`)."""

    id: str | None = None


@dataclass
class TeamsChannelDataSettings(Model):
    """Settings in channel data: the channel the user had selected (on install)."""

    selected_channel: ChannelInfo | None = None


@dataclass
class OnBehalfOf(Model):
    """Who a bot's message or notification is attributed to (a person, by MRI)."""

    item_id: int | None = 0
    mention_type: str | None = "person"
    mri: str | None = None
    display_name: str | None = None

    _wire_names: ClassVar[dict[str, str]] = {"item_id": "itemid"}


@dataclass
class TeamsChannelData(Model):
    """The `channelData` of an activity from Teams: read it with
    `TeamsChannelData.from_dict(activity.channel_data)`, or with the `teams_get_*` helpers."""

    channel: ChannelInfo | None = None
    event_type: str | None = None
    """For conversation updates: `channelCreated`, `teamRenamed`, ...; for message updates and
    deletes: `editMessage`, `undeleteMessage`, `softDeleteMessage`."""
    team: TeamInfo | None = None
    notification: NotificationInfo | None = None
    tenant: TenantInfo | None = None
    meeting: TeamsMeetingInfo | None = None
    settings: TeamsChannelDataSettings | None = None
    on_behalf_of: list[OnBehalfOf] | None = None


# Keyword-only, as in botbuilder (every schema constructor there is): ChannelAccount's fields
# come first otherwise, and a positional call would mean something else.
@dataclass(kw_only=True)
class TeamsChannelAccount(ChannelAccount):
    """A Teams user: the channel account plus name parts, email, UPN, tenant and role."""

    given_name: str | None = None
    surname: str | None = None
    email: str | None = None
    user_principal_name: str | None = None
    tenant_id: str | None = None
    user_role: str | None = None
    """`user`, `guest` or `anonymous`."""


@dataclass(kw_only=True)
class TeamsPagedMembersResult(PagedMembersResult):
    """One page of a conversation's or team's members, as `TeamsChannelAccount`s."""

    members: list[TeamsChannelAccount] | None = None  # type: ignore[assignment]


@dataclass
class ReadReceiptInfo(Model):
    """The value of a read receipt event: the id of the last message the user read."""

    last_read_message_id: str | None = None

    @staticmethod
    def is_message_read(compare_message_id: str | None, last_read_message_id: str | None) -> bool:
        """Whether the message `compare_message_id` was read, given the last one read: Teams'
        message ids are increasing numbers. False when either is missing or not a number."""
        if not compare_message_id or not last_read_message_id:
            return False
        try:
            return int(compare_message_id) <= int(last_read_message_id)
        except ValueError:
            return False

    def is_message_read_instance(self, compare_message_id: str | None) -> bool:
        """`is_message_read` against this receipt's last read message."""
        return self.is_message_read(compare_message_id, self.last_read_message_id)
