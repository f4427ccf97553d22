"""TeamsActivityHandler: an ActivityHandler that also routes what Teams sends to `on_teams_*`
methods: team and channel events (by `channelData.eventType`), message edits and soft deletes,
meeting and read-receipt events, and the Teams invokes (task modules, tabs, message extensions,
configuration, file consent, connector card actions: worker.bot.teams.invokes), each answered
with the handler's typed response serialised as Teams expects.

The routing follows botbuilder-python 4.17.1's `TeamsActivityHandler`: the same methods, names,
arguments and order of checks; an invoke whose handler is not overridden answers 501, a value
that cannot be read answers 400. Event values (meeting start/end, participants, read receipts)
are handed over as Teams sent them, as botbuilder does: read them with e.g.
`MeetingStartEventDetails.from_dict(value)`.
"""

from __future__ import annotations

from typing import Any

from shared.schema.activity import ChannelAccount
from worker.bot.teams.activity_extensions import as_teams_channel_data
from worker.bot.teams.channel_data import ChannelInfo, TeamInfo, TeamsChannelAccount
from worker.bot.teams.invokes import TeamsInvokeHandlers
from worker.bot.teams.teams_info import MS_TEAMS, TeamsInfo
from worker.bot.turn_context import TurnContext
from worker.connector.errors import ConnectorError


class TeamsActivityHandler(TeamsInvokeHandlers):
    """Subclass and override the `on_teams_*` (and `on_*`) methods you need."""

    # -- conversation updates --------------------------------------------------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """From Teams: members added or removed (with the team), then by `eventType`: channel
        created/deleted/renamed/restored, team archived/deleted/hardDeleted/renamed/restored/
        unarchived. Anything else goes to ActivityHandler's routing."""
        activity = turn_context.activity
        if activity.channel_id == MS_TEAMS:
            channel_data = as_teams_channel_data(activity.channel_data)
            team = channel_data.team
            if activity.members_added:
                await self.on_teams_members_added_dispatch(
                    activity.members_added, team, turn_context
                )
                return
            if activity.members_removed:
                await self.on_teams_members_removed_dispatch(
                    activity.members_removed, team, turn_context
                )
                return
            channel = channel_data.channel
            event = channel_data.event_type
            if event in _CHANNEL_EVENTS:
                await getattr(self, _CHANNEL_EVENTS[event])(channel, team, turn_context)
                return
            if event in _TEAM_EVENTS:
                await getattr(self, _TEAM_EVENTS[event])(team, turn_context)
                return
        await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added_dispatch(
        self,
        members_added: list[ChannelAccount],
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """Complete each added member as a `TeamsChannelAccount` (fetched with
        `TeamsInfo.get_member` when the activity only has its ids; as it is when Teams no
        longer knows the conversation), then call `on_teams_members_added`."""
        recipient = turn_context.activity.recipient
        added: list[TeamsChannelAccount] = []
        for member in members_added:
            is_bot = recipient is not None and member.id == recipient.id
            if member.additional_properties or is_bot:
                added.append(TeamsChannelAccount.from_dict(member.to_dict()))
                continue
            try:
                added.append(await TeamsInfo.get_member(turn_context, member.id or ""))
            except ConnectorError as e:
                if e.code != "ConversationNotFound":
                    raise
                added.append(
                    TeamsChannelAccount(
                        id=member.id,
                        name=member.name,
                        aad_object_id=member.aad_object_id,
                        role=member.role,
                    )
                )
        await self.on_teams_members_added(added, team_info, turn_context)

    async def on_teams_members_added(
        self,
        teams_members_added: list[TeamsChannelAccount],
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """Members joined (the bot among them when it was added). Default: calls
        `on_members_added_activity` with them as `ChannelAccount`s."""
        members = [ChannelAccount.from_dict(m.to_dict()) for m in teams_members_added]
        await self.on_members_added_activity(members, turn_context)

    async def on_teams_members_removed_dispatch(
        self,
        members_removed: list[ChannelAccount],
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """Read each removed member as a `TeamsChannelAccount`; call `on_teams_members_removed`."""
        removed = [TeamsChannelAccount.from_dict(m.to_dict()) for m in members_removed]
        await self.on_teams_members_removed(removed, team_info, turn_context)

    async def on_teams_members_removed(
        self,
        teams_members_removed: list[TeamsChannelAccount],
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """Members left. Default: calls `on_members_removed_activity` with them as
        `ChannelAccount`s."""
        members = [ChannelAccount.from_dict(m.to_dict()) for m in teams_members_removed]
        await self.on_members_removed_activity(members, turn_context)

    async def on_teams_channel_created(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """A channel was created in the team."""

    async def on_teams_channel_deleted(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """A channel was deleted."""

    async def on_teams_channel_renamed(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """A channel was renamed (`channel_info.name` is the new name)."""

    async def on_teams_channel_restored(
        self,
        channel_info: ChannelInfo | None,
        team_info: TeamInfo | None,
        turn_context: TurnContext,
    ) -> None:
        """A deleted channel was restored."""

    async def on_teams_team_archived(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """The team was archived."""

    async def on_teams_team_deleted(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """The team was deleted (it can still be restored)."""

    async def on_teams_team_hard_deleted(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """The team was deleted for good."""

    async def on_teams_team_renamed(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """The team was renamed. Default: calls `on_teams_team_renamed_activity` (botbuilder's
        former name, still called)."""
        await self.on_teams_team_renamed_activity(team_info, turn_context)

    async def on_teams_team_renamed_activity(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """Deprecated in botbuilder for `on_teams_team_renamed`; called by its default."""

    async def on_teams_team_restored(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """A deleted team was restored."""

    async def on_teams_team_unarchived(
        self, team_info: TeamInfo | None, turn_context: TurnContext
    ) -> None:
        """The team was unarchived."""

    # -- events ----------------------------------------------------------------------------------

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """From Teams: read receipts and meeting start, end, join and leave events go to their
        `on_teams_*_event` method with the event's value as Teams sent it; others go to
        ActivityHandler's routing."""
        activity = turn_context.activity
        if activity.channel_id == MS_TEAMS and activity.name in _EVENTS:
            await getattr(self, _EVENTS[activity.name])(activity.value, turn_context)
            return
        await super().on_event_activity(turn_context)

    async def on_teams_read_receipt_event(
        self, read_receipt_info: Any, turn_context: TurnContext
    ) -> None:
        """The user read the bot's messages up to `lastReadMessageId`
        (`ReadReceiptInfo.from_dict(value)` reads it)."""

    async def on_teams_meeting_start_event(self, meeting: Any, turn_context: TurnContext) -> None:
        """A meeting started (`MeetingStartEventDetails.from_dict(meeting)` reads the value)."""

    async def on_teams_meeting_end_event(self, meeting: Any, turn_context: TurnContext) -> None:
        """A meeting ended (`MeetingEndEventDetails.from_dict(meeting)`)."""

    async def on_teams_meeting_participants_join_event(
        self, meeting: Any, turn_context: TurnContext
    ) -> None:
        """Participants joined (`MeetingParticipantsEventDetails.from_dict(meeting)`)."""

    async def on_teams_meeting_participants_leave_event(
        self, meeting: Any, turn_context: TurnContext
    ) -> None:
        """Participants left (`MeetingParticipantsEventDetails.from_dict(meeting)`)."""

    # -- message updates and deletes -------------------------------------------------------------

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        """From Teams: `editMessage` and `undeleteMessage` to their handlers."""
        activity = turn_context.activity
        if activity.channel_id == MS_TEAMS:
            event = as_teams_channel_data(activity.channel_data).event_type
            if event == "editMessage":
                await self.on_teams_message_edit(turn_context)
                return
            if event == "undeleteMessage":
                await self.on_teams_message_undelete(turn_context)
                return
        await super().on_message_update_activity(turn_context)

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        """From Teams: `softDeleteMessage` to `on_teams_message_soft_delete`."""
        activity = turn_context.activity
        if activity.channel_id == MS_TEAMS:
            event = as_teams_channel_data(activity.channel_data).event_type
            if event == "softDeleteMessage":
                await self.on_teams_message_soft_delete(turn_context)
                return
        await super().on_message_delete_activity(turn_context)

    async def on_teams_message_edit(self, turn_context: TurnContext) -> None:
        """A user edited a message (the activity carries the new text)."""

    async def on_teams_message_undelete(self, turn_context: TurnContext) -> None:
        """A user undid the deletion of a message."""

    async def on_teams_message_soft_delete(self, turn_context: TurnContext) -> None:
        """A user deleted a message."""


_CHANNEL_EVENTS = {
    "channelCreated": "on_teams_channel_created",
    "channelDeleted": "on_teams_channel_deleted",
    "channelRenamed": "on_teams_channel_renamed",
    "channelRestored": "on_teams_channel_restored",
}
_TEAM_EVENTS = {
    "teamArchived": "on_teams_team_archived",
    "teamDeleted": "on_teams_team_deleted",
    "teamHardDeleted": "on_teams_team_hard_deleted",
    "teamRenamed": "on_teams_team_renamed",
    "teamRestored": "on_teams_team_restored",
    "teamUnarchived": "on_teams_team_unarchived",
}
_EVENTS = {
    "application/vnd.microsoft.readReceipt": "on_teams_read_receipt_event",
    "application/vnd.microsoft.meetingStart": "on_teams_meeting_start_event",
    "application/vnd.microsoft.meetingEnd": "on_teams_meeting_end_event",
    "application/vnd.microsoft.meetingParticipantJoin": "on_teams_meeting_participants_join_event",
    "application/vnd.microsoft.meetingParticipantLeave": (
        "on_teams_meeting_participants_leave_event"
    ),
}
