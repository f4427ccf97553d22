"""TeamsActivityHandler: an ActivityHandler that also routes what Teams sends to `on_teams_*`
methods: team and channel events (by `channelData.eventType`), message edits and soft deletes,
meeting and read-receipt events, and the Teams invokes (task modules, tabs, message extensions,
configuration, file consent, connector card actions), each answered with the handler's typed
response serialised as Teams expects.

The routing follows botbuilder-python 4.17.1's `TeamsActivityHandler`: the same methods, names,
arguments and order of checks; an invoke whose handler is not overridden answers 501, a value
that cannot be read answers 400. Invoke values are read into the Teams schema; event values
(meeting start/end, participants, read receipts) are handed over as Teams sent them, as
botbuilder does: read them with e.g. `MeetingStartEventDetails.from_dict(value)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from shared.activity import ChannelAccount, Model
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import InvokeResponse, InvokeResponseError
from worker.bot.teams.activity_extensions import as_teams_channel_data
from worker.bot.teams.channel_data import ChannelInfo, TeamInfo, TeamsChannelAccount
from worker.bot.teams.connector_cards import O365ConnectorCardActionQuery
from worker.bot.teams.file_cards import FileConsentCardResponse
from worker.bot.teams.messaging_extensions import (
    AppBasedLinkQuery,
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    MessagingExtensionQuery,
    MessagingExtensionResponse,
)
from worker.bot.teams.task_modules import (
    ConfigResponseBase,
    TabRequest,
    TabResponse,
    TabSubmit,
    TaskModuleRequest,
    TaskModuleResponse,
)
from worker.bot.teams.teams_info import MS_TEAMS, TeamsInfo
from worker.bot.turn_context import TurnContext
from worker.connector.errors import ConnectorError

M = TypeVar("M", bound=Model)

NOT_IMPLEMENTED = 501
BAD_REQUEST = 400


class TeamsActivityHandler(ActivityHandler):
    """Subclass and override the `on_teams_*` (and `on_*`) methods you need."""

    # -- invokes ---------------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Route a Teams invoke by `activity.name` (see `_INVOKES`); others
        (`adaptiveCard/action`, `signin/verifyState`) go to ActivityHandler. Never raises for an
        unhandled invoke or a bad value: those are answered 501 and 400."""
        activity = turn_context.activity
        try:
            if not activity.name and activity.channel_id == MS_TEAMS:
                return await self.on_teams_card_action_invoke(turn_context)
            if activity.name == "signin/tokenExchange":
                await self.on_teams_signin_token_exchange(turn_context)
                return _ok()
            route = _INVOKES.get(activity.name or "")
            if route is None:
                return await super().on_invoke_activity(turn_context)
            value = activity.value if route.value is None else _read(route.value, activity.value)
            result = await getattr(self, route.method)(turn_context, value)
            if route.answer == "response":
                return result if isinstance(result, InvokeResponse) else _ok(result)
            return _ok(result if route.answer == "body" else None)
        except InvokeResponseError as e:
            return e.response()

    async def on_sign_in_invoke(self, turn_context: TurnContext) -> None:
        """`signin/verifyState`: goes to `on_teams_signin_verify_state`."""
        await self.on_teams_signin_verify_state(turn_context)

    async def on_teams_card_action_invoke(self, turn_context: TurnContext) -> InvokeResponse:
        """An invoke without a name from Teams (a legacy card action). Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_signin_verify_state(self, turn_context: TurnContext) -> None:
        """`signin/verifyState` (sign-in: issue 22). Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_signin_token_exchange(self, turn_context: TurnContext) -> None:
        """`signin/tokenExchange`; by default the same as `on_teams_signin_verify_state`."""
        await self.on_teams_signin_verify_state(turn_context)

    async def on_teams_file_consent(
        self,
        turn_context: TurnContext,
        file_consent_card_response: FileConsentCardResponse,
    ) -> InvokeResponse:
        """`fileConsent/invoke`: to `..._accept` or `..._decline` by the user's action; any
        other action answers 400."""
        action = file_consent_card_response.action
        if action == "accept":
            await self.on_teams_file_consent_accept(turn_context, file_consent_card_response)
            return _ok()
        if action == "decline":
            await self.on_teams_file_consent_decline(turn_context, file_consent_card_response)
            return _ok()
        raise InvokeResponseError(BAD_REQUEST, f"{action} is not a supported Action.")

    async def on_teams_file_consent_accept(
        self,
        turn_context: TurnContext,
        file_consent_card_response: FileConsentCardResponse,
    ) -> None:
        """The user accepted a file: upload it to `upload_info.upload_url`. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_file_consent_decline(
        self,
        turn_context: TurnContext,
        file_consent_card_response: FileConsentCardResponse,
    ) -> None:
        """The user declined a file. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_o365_connector_card_action(
        self, turn_context: TurnContext, query: O365ConnectorCardActionQuery
    ) -> None:
        """`actionableMessage/executeAction`: an O365 connector card's HttpPOST. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_app_based_link_query(
        self, turn_context: TurnContext, query: AppBasedLinkQuery
    ) -> MessagingExtensionResponse:
        """`composeExtension/queryLink`: unfurl a pasted link. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_anonymous_app_based_link_query(
        self, turn_context: TurnContext, query: AppBasedLinkQuery
    ) -> MessagingExtensionResponse:
        """`composeExtension/anonymousQueryLink`: unfurl for an anonymous user. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        """`composeExtension/query`: a search message extension. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_select_item(
        self, turn_context: TurnContext, query: Any
    ) -> MessagingExtensionResponse:
        """`composeExtension/selectItem`: the user picked a search result (its `value` as
        sent). Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_submit_action_dispatch(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """`composeExtension/submitAction`: to `..._bot_message_preview_edit` / `..._send`
        when the user acted on a preview, else to `on_teams_messaging_extension_submit_action`;
        another preview action answers 400."""
        preview_action = action.bot_message_preview_action
        if not preview_action:
            return await self.on_teams_messaging_extension_submit_action(turn_context, action)
        if preview_action == "edit":
            return await self.on_teams_messaging_extension_bot_message_preview_edit(
                turn_context, action
            )
        if preview_action == "send":
            return await self.on_teams_messaging_extension_bot_message_preview_send(
                turn_context, action
            )
        raise InvokeResponseError(
            BAD_REQUEST, f"{preview_action} is not a supported BotMessagePreviewAction"
        )

    async def on_teams_messaging_extension_bot_message_preview_edit(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """The user chose to edit the bot's preview. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_bot_message_preview_send(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """The user chose to send the bot's preview. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """An action message extension's form was submitted. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        """`composeExtension/fetchTask`: the task module an action opens with. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_configuration_query_settings_url(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        """`composeExtension/querySettingUrl`: the extension's settings page. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_configuration_setting(
        self, turn_context: TurnContext, settings: Any
    ) -> None:
        """`composeExtension/setting`: the settings page's result. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_messaging_extension_card_button_clicked(
        self, turn_context: TurnContext, card_data: Any
    ) -> None:
        """`composeExtension/onCardButtonClicked`. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_task_module_fetch(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        """`task/fetch`: what the task module opening now shows. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_task_module_submit(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        """`task/submit`: the task module's form was submitted. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_tab_fetch(
        self, turn_context: TurnContext, tab_request: TabRequest
    ) -> TabResponse:
        """`tab/fetch`: the cards a tab shows. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_tab_submit(
        self, turn_context: TurnContext, tab_submit: TabSubmit
    ) -> TabResponse:
        """`tab/submit`: a tab's card was submitted. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_config_fetch(
        self, turn_context: TurnContext, config_data: Any
    ) -> ConfigResponseBase:
        """`config/fetch`: the bot's configuration (a task module or auth). Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

    async def on_teams_config_submit(
        self, turn_context: TurnContext, config_data: Any
    ) -> ConfigResponseBase:
        """`config/submit`: the configuration was submitted. Default: 501."""
        raise InvokeResponseError(NOT_IMPLEMENTED)

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


@dataclass(frozen=True)
class _Invoke:
    """How an invoke is routed: the handler, what its value is read as (None: as sent), and
    what answers it: the handler's result as the body, an empty 200, or the handler's own
    InvokeResponse."""

    method: str
    value: type[Model] | None
    answer: Literal["body", "empty", "response"]


_INVOKES = {
    "fileConsent/invoke": _Invoke("on_teams_file_consent", FileConsentCardResponse, "response"),
    "actionableMessage/executeAction": _Invoke(
        "on_teams_o365_connector_card_action", O365ConnectorCardActionQuery, "empty"
    ),
    "composeExtension/queryLink": _Invoke(
        "on_teams_app_based_link_query", AppBasedLinkQuery, "body"
    ),
    "composeExtension/anonymousQueryLink": _Invoke(
        "on_teams_anonymous_app_based_link_query", AppBasedLinkQuery, "body"
    ),
    "composeExtension/query": _Invoke(
        "on_teams_messaging_extension_query", MessagingExtensionQuery, "body"
    ),
    "composeExtension/selectItem": _Invoke(
        "on_teams_messaging_extension_select_item", None, "body"
    ),
    "composeExtension/submitAction": _Invoke(
        "on_teams_messaging_extension_submit_action_dispatch", MessagingExtensionAction, "body"
    ),
    "composeExtension/fetchTask": _Invoke(
        "on_teams_messaging_extension_fetch_task", MessagingExtensionAction, "body"
    ),
    "composeExtension/querySettingUrl": _Invoke(
        "on_teams_messaging_extension_configuration_query_settings_url",
        MessagingExtensionQuery,
        "body",
    ),
    "composeExtension/setting": _Invoke(
        "on_teams_messaging_extension_configuration_setting", None, "empty"
    ),
    "composeExtension/onCardButtonClicked": _Invoke(
        "on_teams_messaging_extension_card_button_clicked", None, "empty"
    ),
    "task/fetch": _Invoke("on_teams_task_module_fetch", TaskModuleRequest, "body"),
    "task/submit": _Invoke("on_teams_task_module_submit", TaskModuleRequest, "body"),
    "tab/fetch": _Invoke("on_teams_tab_fetch", TabRequest, "body"),
    "tab/submit": _Invoke("on_teams_tab_submit", TabSubmit, "body"),
    "config/fetch": _Invoke("on_teams_config_fetch", None, "body"),
    "config/submit": _Invoke("on_teams_config_submit", None, "body"),
}
"""The Teams invokes, by `activity.name`, in botbuilder's order of checks."""

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


def _ok(body: Any = None) -> InvokeResponse:
    """200 with the handler's response in wire form, as Teams reads it."""
    return InvokeResponse(200, body.to_dict() if isinstance(body, Model) else body)


def _read(model: type[M], value: Any) -> M:
    """An invoke's value as `model`; a value that is not a JSON object answers 400."""
    if isinstance(value, dict):
        return model.from_dict(value)
    if value is None:
        return model()
    raise InvokeResponseError(
        BAD_REQUEST, f"the invoke's value must be a JSON object ({model.__name__})"
    )
