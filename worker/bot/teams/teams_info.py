"""TeamsInfo: what a Teams bot asks the Bot Connector about its team, channels, members and
meetings, messages it starts in a channel, and batch sends to many users at once.

botbuilder-python's static methods and signatures (`await TeamsInfo.get_member(context, id)`),
plus the batch operations of the C# and JavaScript SDKs. Calls go to the inbound activity's
service URL through the worker's connector client (worker.connector.teams), so they follow its
rules: the outbound allow-list, the bot's token, retries on 429 with Retry-After, and a
`ConnectorError` carrying the service's error code and message when a call fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.schema.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ConversationResourceResponse,
)
from worker.bot.conversations import connector_client
from worker.bot.teams.activity_extensions import teams_get_channel_data, teams_get_meeting_info
from worker.bot.teams.batch import BatchFailedEntriesResponse, BatchOperationState, TeamMember
from worker.bot.teams.channel_data import (
    ChannelInfo,
    ConversationList,
    TeamDetails,
    TeamsChannelAccount,
    TeamsChannelData,
    TeamsPagedMembersResult,
)
from worker.bot.teams.meetings import (
    MeetingInfo,
    MeetingNotificationBase,
    MeetingNotificationResponse,
    TeamsMeetingParticipant,
)
from worker.bot.turn_context import TurnContext
from worker.bot.turn_effects import once, once_as
from worker.connector.client import ConnectorClient
from worker.connector.teams import TeamsOperations

MS_TEAMS = "msteams"


class TeamsInfo:
    """Teams operations about the conversation of a turn. Every method is static and takes the
    `TurnContext` first, as in botbuilder."""

    # -- team, channels and members ------------------------------------------------------------

    @staticmethod
    def get_team_id(turn_context: TurnContext) -> str:
        """The id of the team the turn's activity came from; "" outside a team."""
        channel_data = teams_get_channel_data(turn_context.activity)
        team = channel_data.team if channel_data else None
        return (team.id or "") if team else ""

    @staticmethod
    async def get_team_details(turn_context: TurnContext, team_id: str = "") -> TeamDetails:
        """The team's name, Azure AD group, member and channel counts (by default the team
        of the turn; TypeError outside one)."""
        team_id = _team_id(turn_context, team_id, "get_team_details")
        doc = await _teams(turn_context).get_team_details(team_id)
        return TeamDetails.from_dict(_object(doc))

    @staticmethod
    async def get_team_channels(turn_context: TurnContext, team_id: str = "") -> list[ChannelInfo]:
        """The channels of the team (the General channel has the team's id and no name)."""
        team_id = _team_id(turn_context, team_id, "get_team_channels")
        doc = await _teams(turn_context).get_team_channels(team_id)
        return ConversationList.from_dict(_object(doc)).conversations or []

    @staticmethod
    async def get_team_members(
        turn_context: TurnContext, team_id: str = ""
    ) -> list[TeamsChannelAccount]:
        """Everyone in the team. Teams limits this unpaged call for large teams: prefer
        `get_paged_team_members`."""
        team_id = _team_id(turn_context, team_id, "get_team_members")
        service_url = _service_url(turn_context)
        members = await _client(turn_context).get_conversation_members(service_url, team_id)
        return [_teams_account(member) for member in members]

    @staticmethod
    async def get_members(turn_context: TurnContext) -> list[TeamsChannelAccount]:
        """Everyone in the turn's team, or in its chat outside a team."""
        team_id = TeamsInfo.get_team_id(turn_context)
        if team_id:
            return await TeamsInfo.get_team_members(turn_context, team_id)
        service_url, conversation_id = _conversation(turn_context)
        members = await _client(turn_context).get_conversation_members(service_url, conversation_id)
        return [_teams_account(member) for member in members]

    @staticmethod
    async def get_paged_team_members(
        turn_context: TurnContext,
        team_id: str = "",
        continuation_token: str | None = None,
        page_size: int | None = None,
    ) -> TeamsPagedMembersResult:
        """One page of the team's members (Teams gives up to 500 a page); pass the page's
        `continuation_token` for the next."""
        team_id = _team_id(turn_context, team_id, "get_paged_team_members")
        return await _paged(turn_context, team_id, continuation_token, page_size)

    @staticmethod
    async def get_paged_members(
        turn_context: TurnContext,
        continuation_token: str | None = None,
        page_size: int | None = None,
    ) -> TeamsPagedMembersResult:
        """One page of the members of the turn's team, or of its chat outside a team."""
        team_id = TeamsInfo.get_team_id(turn_context)
        if team_id:
            return await TeamsInfo.get_paged_team_members(
                turn_context, team_id, continuation_token, page_size
            )
        _, conversation_id = _conversation(turn_context)
        return await _paged(turn_context, conversation_id, continuation_token, page_size)

    @staticmethod
    async def get_team_member(
        turn_context: TurnContext, team_id: str = "", member_id: str | None = None
    ) -> TeamsChannelAccount:
        """One member of the team, by id (a `29:...` id or an Azure AD object id)."""
        team_id = _team_id(turn_context, team_id, "get_team_member")
        if not member_id:
            raise TypeError("TeamsInfo.get_team_member needs a member_id")
        member = await _client(turn_context).get_conversation_member(
            _service_url(turn_context), team_id, member_id
        )
        return _teams_account(member)

    @staticmethod
    async def get_member(turn_context: TurnContext, member_id: str) -> TeamsChannelAccount:
        """One member of the turn's team, or of its chat outside a team."""
        team_id = TeamsInfo.get_team_id(turn_context)
        if team_id:
            return await TeamsInfo.get_team_member(turn_context, team_id, member_id)
        if not member_id:
            raise TypeError("TeamsInfo.get_member needs a member_id")
        service_url, conversation_id = _conversation(turn_context)
        member = await _client(turn_context).get_conversation_member(
            service_url, conversation_id, member_id
        )
        return _teams_account(member)

    # -- meetings --------------------------------------------------------------------------------

    @staticmethod
    async def get_meeting_participant(
        turn_context: TurnContext,
        meeting_id: str | None = None,
        participant_id: str | None = None,
        tenant_id: str | None = None,
    ) -> TeamsMeetingParticipant:
        """A participant of a meeting: by default the sender (their Azure AD object id) in the
        turn's meeting and tenant."""
        meeting_id = meeting_id or _meeting_id(turn_context)
        if not meeting_id:
            raise TypeError("TeamsInfo.get_meeting_participant needs a meeting_id")
        sender = turn_context.activity.from_property
        participant_id = participant_id or (sender.aad_object_id if sender else None)
        if not participant_id:
            raise TypeError("TeamsInfo.get_meeting_participant needs a participant_id")
        tenant_id = tenant_id or _tenant_id(turn_context)
        if not tenant_id:
            raise TypeError("TeamsInfo.get_meeting_participant needs a tenant_id")
        doc = await _teams(turn_context).get_meeting_participant(
            meeting_id, participant_id, tenant_id
        )
        return TeamsMeetingParticipant.from_dict(_object(doc))

    @staticmethod
    async def get_meeting_info(
        turn_context: TurnContext, meeting_id: str | None = None
    ) -> MeetingInfo:
        """A meeting's details, chat and organizer (by default the turn's meeting)."""
        meeting_id = meeting_id or _meeting_id(turn_context)
        if not meeting_id:
            raise TypeError("TeamsInfo.get_meeting_info needs a meeting_id (or a meeting turn)")
        doc = await _teams(turn_context).get_meeting_info(meeting_id)
        return MeetingInfo.from_dict(_object(doc))

    @staticmethod
    async def send_meeting_notification(
        turn_context: TurnContext,
        notification: MeetingNotificationBase,
        meeting_id: str | None = None,
    ) -> MeetingNotificationResponse:
        """Show a notification in a meeting (e.g. a `TargetedMeetingNotification` on the
        stage). The answer lists the recipients it could not reach (empty when all were)."""
        meeting_id = meeting_id or _meeting_id(turn_context)
        if not meeting_id:
            raise TypeError("TeamsInfo.send_meeting_notification needs a meeting_id")
        if notification is None:
            raise TypeError("TeamsInfo.send_meeting_notification needs a notification")

        async def notify() -> MeetingNotificationResponse:
            doc = await _teams(turn_context).send_meeting_notification(
                meeting_id, notification.to_dict()
            )
            return MeetingNotificationResponse.from_dict(doc if isinstance(doc, dict) else {})

        # Once per turn, however often the turn runs: a second POST notifies the meeting again.
        return await once_as(MeetingNotificationResponse, notify)

    # -- messages --------------------------------------------------------------------------------

    @staticmethod
    async def send_message_to_teams_channel(
        turn_context: TurnContext,
        activity: Activity,
        teams_channel_id: str,
        *,
        bot_app_id: str | None = None,
    ) -> tuple[ConversationReference, str]:
        """Start a new thread in a Teams channel with `activity` as its first message. Returns
        the new thread's conversation reference (for `continue_conversation`) and the id of
        the message. `bot_app_id` is accepted for botbuilder's signature; the worker's own
        credentials are used either way."""
        if turn_context is None or turn_context.activity is None:
            raise ValueError("send_message_to_teams_channel needs a turn context with an activity")
        if activity is None:
            raise ValueError("send_message_to_teams_channel needs the activity to send")
        if not teams_channel_id:
            raise ValueError("send_message_to_teams_channel needs teams_channel_id")
        inbound = turn_context.activity
        service_url = _service_url(turn_context)
        parameters = ConversationParameters(
            is_group=True,
            bot=inbound.recipient,
            channel_data=TeamsChannelData(channel=ChannelInfo(id=teams_channel_id)).to_dict(),
            tenant_id=_tenant_id(turn_context),
            activity=activity,
        )
        # Once per turn, however often the turn runs: a second POST starts a second thread.
        created = await once_as(
            ConversationResourceResponse,
            lambda: _client(turn_context).create_conversation(service_url, parameters),
        )
        conversation_id = created.id or ""
        reference = ConversationReference(
            activity_id=created.activity_id,
            bot=inbound.recipient,
            conversation=ConversationAccount(
                id=conversation_id, is_group=True, tenant_id=_tenant_id(turn_context)
            ),
            channel_id=inbound.channel_id or MS_TEAMS,
            locale=inbound.locale,
            service_url=created.service_url or service_url,
        )
        return reference, created.activity_id or ""

    # -- batch operations ------------------------------------------------------------------------

    @staticmethod
    async def send_message_to_list_of_users(
        turn_context: TurnContext,
        activity: Activity,
        teams_members: list[TeamMember],
        tenant_id: str,
    ) -> str:
        """Send `activity` to each user in `teams_members` (ids), as one batch operation Teams
        runs at its own pace. Returns the operation id (for `get_operation_state`)."""
        _require(activity, "activity")
        _require(teams_members, "teams_members")
        _require(tenant_id, "tenant_id")
        body = {
            "members": [m.to_dict() for m in teams_members],
            "activity": activity.to_dict(),
            "tenantId": tenant_id,
        }
        return await _once_in_turn(lambda: _teams(turn_context).send_to_list_of_users(body))

    @staticmethod
    async def send_message_to_all_users_in_tenant(
        turn_context: TurnContext, activity: Activity, tenant_id: str
    ) -> str:
        """Send `activity` to every user of the tenant who has the bot; the operation id."""
        _require(activity, "activity")
        _require(tenant_id, "tenant_id")
        body = {"activity": activity.to_dict(), "tenantId": tenant_id}
        return await _once_in_turn(lambda: _teams(turn_context).send_to_all_users_in_tenant(body))

    @staticmethod
    async def send_message_to_all_users_in_team(
        turn_context: TurnContext, activity: Activity, team_id: str, tenant_id: str
    ) -> str:
        """Send `activity` to every member of the team, one to one; the operation id."""
        _require(activity, "activity")
        _require(team_id, "team_id")
        _require(tenant_id, "tenant_id")
        body = {"activity": activity.to_dict(), "teamId": team_id, "tenantId": tenant_id}
        return await _once_in_turn(lambda: _teams(turn_context).send_to_all_users_in_team(body))

    @staticmethod
    async def send_message_to_list_of_channels(
        turn_context: TurnContext,
        activity: Activity,
        channels_members: list[TeamMember],
        tenant_id: str,
    ) -> str:
        """Post `activity` in each channel of `channels_members` (channel ids); the operation
        id."""
        _require(activity, "activity")
        _require(channels_members, "channels_members")
        _require(tenant_id, "tenant_id")
        body = {
            "members": [m.to_dict() for m in channels_members],
            "activity": activity.to_dict(),
            "tenantId": tenant_id,
        }
        return await _once_in_turn(lambda: _teams(turn_context).send_to_list_of_channels(body))

    @staticmethod
    async def get_operation_state(
        turn_context: TurnContext, operation_id: str
    ) -> BatchOperationState:
        """A batch operation's progress: its state and how many entries ended with each
        status."""
        _require(operation_id, "operation_id")
        doc = await _teams(turn_context).get_operation_state(operation_id)
        return BatchOperationState.from_dict(_object(doc))

    @staticmethod
    async def get_paged_failed_entries(
        turn_context: TurnContext, operation_id: str, continuation_token: str | None = None
    ) -> BatchFailedEntriesResponse:
        """One page of the entries a batch operation failed for, with their errors."""
        _require(operation_id, "operation_id")
        doc = await _teams(turn_context).get_failed_entries(operation_id, continuation_token)
        return BatchFailedEntriesResponse.from_dict(_object(doc))

    @staticmethod
    async def get_failed_entries(
        turn_context: TurnContext, operation_id: str, continuation_token: str | None = None
    ) -> BatchFailedEntriesResponse:
        """`get_paged_failed_entries` under the JavaScript SDK's name."""
        return await TeamsInfo.get_paged_failed_entries(
            turn_context, operation_id, continuation_token
        )

    @staticmethod
    async def cancel_operation(turn_context: TurnContext, operation_id: str) -> None:
        """Stop a batch operation: entries not yet sent are not sent."""
        _require(operation_id, "operation_id")
        await _teams(turn_context).cancel_operation(operation_id)


def _client(turn_context: TurnContext) -> ConnectorClient:
    return connector_client(turn_context)


def _teams(turn_context: TurnContext) -> TeamsOperations:
    return TeamsOperations(_client(turn_context), _service_url(turn_context))


def _service_url(turn_context: TurnContext) -> str:
    service_url = turn_context.activity.service_url
    if not service_url:
        raise ValueError("the turn's activity has no serviceUrl to ask Teams at")
    return service_url


def _conversation(turn_context: TurnContext) -> tuple[str, str]:
    conversation = turn_context.activity.conversation
    if conversation is None or not conversation.id:
        raise TypeError("the turn's activity has no conversation id")
    return _service_url(turn_context), conversation.id


def _team_id(turn_context: TurnContext, team_id: str, method: str) -> str:
    team_id = team_id or TeamsInfo.get_team_id(turn_context)
    if not team_id:
        raise TypeError(f"TeamsInfo.{method} works only in a Teams team (or with a team_id)")
    return team_id


def _meeting_id(turn_context: TurnContext) -> str | None:
    meeting = teams_get_meeting_info(turn_context.activity)
    return meeting.id if meeting else None


def _tenant_id(turn_context: TurnContext) -> str | None:
    channel_data = teams_get_channel_data(turn_context.activity)
    if channel_data and channel_data.tenant and channel_data.tenant.id:
        return channel_data.tenant.id
    conversation = turn_context.activity.conversation
    return conversation.tenant_id if conversation else None


async def _paged(
    turn_context: TurnContext,
    conversation_id: str,
    continuation_token: str | None,
    page_size: int | None,
) -> TeamsPagedMembersResult:
    page = await _client(turn_context).get_conversation_paged_members(
        _service_url(turn_context), conversation_id, page_size, continuation_token
    )
    return TeamsPagedMembersResult(
        continuation_token=page.continuation_token,
        members=[_teams_account(member) for member in page.members or ()],
    )


def _teams_account(member: ChannelAccount) -> TeamsChannelAccount:
    """A connector account (Teams' fields in its additional properties) as a Teams account."""
    return TeamsChannelAccount.from_dict(member.to_dict())


def _object(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValueError(f"Teams answered {type(doc).__name__}, expected a JSON object")
    return doc


def _require(value: Any, name: str) -> None:
    if not value:
        raise ValueError(f"{name} is required")


async def _once_in_turn(send: Callable[[], Awaitable[Any]]) -> str:
    """A batch send's operation id, sent once per turn however often the turn runs (a second
    POST would message every member again)."""

    async def perform() -> str:
        return _operation_id(await send())

    return await once(perform)


def _operation_id(doc: Any) -> str:
    """Teams answers a batch send with `{"operationId": ...}` (the C# SDK reads the bare
    text): either works."""
    if isinstance(doc, dict) and isinstance(doc.get("operationId"), str):
        return str(doc["operationId"])
    if isinstance(doc, str):
        return doc
    raise ValueError(f"Teams answered the batch send without an operation id: {doc!r}")
