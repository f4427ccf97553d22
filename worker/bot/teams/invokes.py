"""The Teams invokes of `TeamsActivityHandler`: task modules, tabs, message extensions,
configuration, file consent and connector card actions, routed by `activity.name` as
botbuilder-python 4.17.1 routes them, each answered with its handler's typed response in
Teams' wire form; a handler not overridden answers 501, a value that cannot be read 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from shared.schema.activity import Model
from worker.bot.activity_handler import ActivityHandler
from worker.bot.invoke import InvokeResponse, InvokeResponseError
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
from worker.bot.teams.teams_info import MS_TEAMS
from worker.bot.turn_context import TurnContext

M = TypeVar("M", bound=Model)

NOT_IMPLEMENTED = 501
BAD_REQUEST = 400


class TeamsInvokeHandlers(ActivityHandler):
    """The invoke half of `TeamsActivityHandler` (subclass that one, not this)."""

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
        """`signin/verifyState` (and by default `signin/tokenExchange`): run the dialog whose
        `OAuthPrompt` waits for it; the prompt answers the invoke. Default: 501."""
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
