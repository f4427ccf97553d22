"""ActivityHandler: dispatch each activity type to an overridable `on_*` method, as in the SDK."""

from __future__ import annotations

import logging
from typing import Any

from shared.schema.activity import Activity, ActivityTypes, ChannelAccount, MessageReaction, Model
from worker.bot.invoke import (
    INVOKE_RESPONSE_KEY,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    InvokeResponse,
    InvokeResponseError,
    adaptive_card_invoke_value,
)
from worker.bot.turn_context import TurnContext

log = logging.getLogger(__name__)

_SIGN_IN_INVOKES = ("signin/verifyState", "signin/tokenExchange")
SIGN_IN_FAILURE = "signin/failure"
_SIGN_IN_FAILURE_HINTS = {
    "resourcematchfailed": "the token exchange resource URI of the sign-in card (the OAuth "
    "connection's Token Exchange URL) is not the Application ID URI of the Entra app ('Expose "
    "an API') that the app manifest's webApplicationInfo names",
    "installedappnotfound": "the bot's app is not installed for this user or group chat",
}
"""What the commonest of Teams' failure codes mean (Teams' SSO troubleshooting page lists them)."""


class ActivityHandler:
    """Subclass and override the `on_*` methods you need; the defaults do nothing (or answer an
    invoke with 501). Method names and arguments follow botbuilder-python."""

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Route the turn by `activity.type`."""
        if turn_context is None or turn_context.activity is None:
            raise TypeError("on_turn needs a TurnContext with an activity")
        if not turn_context.activity.type:
            raise TypeError("the activity has no type")
        # By name, so a subclass's override is the one that runs.
        handler = getattr(
            self, _ROUTES.get(turn_context.activity.type, "on_unrecognized_activity_type")
        )
        await handler(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """A user sent a message."""

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        """A user edited a message."""

    async def on_message_delete_activity(self, turn_context: TurnContext) -> None:
        """A user deleted a message."""

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """Members joined or left; calls `on_members_added_activity` or `..._removed_...`.

        The bot itself is in the lists, as in the SDK: compare `member.id` with
        `turn_context.activity.recipient.id` to skip it.
        """
        activity = turn_context.activity
        if activity.members_added:
            await self.on_members_added_activity(activity.members_added, turn_context)
        elif activity.members_removed:
            await self.on_members_removed_activity(activity.members_removed, turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Members joined the conversation."""

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Members left the conversation."""

    async def on_message_reaction_activity(self, turn_context: TurnContext) -> None:
        """Reactions were added and/or removed; both handlers may run for one activity."""
        activity = turn_context.activity
        if activity.reactions_added:
            await self.on_reactions_added(activity.reactions_added, turn_context)
        if activity.reactions_removed:
            await self.on_reactions_removed(activity.reactions_removed, turn_context)

    async def on_reactions_added(
        self, message_reactions: list[MessageReaction], turn_context: TurnContext
    ) -> None:
        """Reactions were added to a message (`turn_context.activity.reply_to_id`)."""

    async def on_reactions_removed(
        self, message_reactions: list[MessageReaction], turn_context: TurnContext
    ) -> None:
        """Reactions were removed from a message."""

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """An event; `tokens/response` goes to `on_token_response_event`, others to `on_event`."""
        if turn_context.activity.name == "tokens/response":
            await self.on_token_response_event(turn_context)
        else:
            await self.on_event(turn_context)

    async def on_token_response_event(self, turn_context: TurnContext) -> None:
        """An OAuth token arrived (`tokens/response`)."""

    async def on_event(self, turn_context: TurnContext) -> None:
        """Any other event activity."""

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Answer an invoke. Unhandled names, and sign-in by default, answer 501; a bad
        `adaptiveCard/action` value answers 400. Never raises for those cases."""
        name = turn_context.activity.name
        try:
            if name == "adaptiveCard/action":
                value = adaptive_card_invoke_value(turn_context.activity.value)
                result = await self.on_adaptive_card_invoke(turn_context, value)
                return InvokeResponse(200, result.to_dict())
            if name in _SIGN_IN_INVOKES:
                await self.on_sign_in_invoke(turn_context)
                return InvokeResponse(200)
            if name == SIGN_IN_FAILURE:
                value = turn_context.activity.value
                failure = value if isinstance(value, dict) else {}
                code, message = str(failure.get("code") or ""), str(failure.get("message") or "")
                await self.on_sign_in_failure(turn_context, code, message)
                return InvokeResponse(200)
            raise InvokeResponseError(501)
        except InvokeResponseError as e:
            return e.response()

    @staticmethod
    def _create_invoke_response(body: Any = None) -> InvokeResponse:
        """A 200 answer to an invoke with `body` (a schema object goes as its wire form):
        botbuilder's helper, which handlers that override `on_invoke_activity` call."""
        return InvokeResponse(200, body.to_dict() if isinstance(body, Model) else body)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """An Adaptive Card `Action.Execute`. Not implemented by default: 501."""
        raise InvokeResponseError(501)

    async def on_sign_in_invoke(self, turn_context: TurnContext) -> None:
        """`signin/verifyState` or `signin/tokenExchange`. Not implemented by default: 501."""
        raise InvokeResponseError(501)

    async def on_sign_in_failure(self, turn_context: TurnContext, code: str, message: str) -> None:
        """`signin/failure`: the client (Teams) could not sign the user in silently (SSO), and
        says why in `code` and `message`. Most such failures show the user nothing: sign-in just
        does not complete. By default logged as a warning, with what the commonest codes mean,
        and answered 200; override to tell the user, or to send a sign-in card. Not in
        botbuilder 4.17, which answers 501 and says nothing."""
        activity = turn_context.activity
        user = activity.from_property.id if activity.from_property else None
        conversation = activity.conversation.id if activity.conversation else None
        hint = _SIGN_IN_FAILURE_HINTS.get(code.lower())
        log.warning(
            "sign-in failed in the client for user %s in conversation %s: %s -- %s%s",
            user,
            conversation,
            code or "(no code)",
            message or "(no message)",
            f" ({hint})" if hint else "",
            extra={"conversation": conversation, "activity_id": activity.id},
        )

    async def on_end_of_conversation_activity(self, turn_context: TurnContext) -> None:
        """The conversation ended."""

    async def on_typing_activity(self, turn_context: TurnContext) -> None:
        """The user is typing."""

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """The bot was installed or uninstalled; routes on `action`."""
        action = turn_context.activity.action
        if action in ("add", "add-upgrade"):
            await self.on_installation_update_add(turn_context)
        elif action in ("remove", "remove-upgrade"):
            await self.on_installation_update_remove(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """The bot was installed (or upgraded)."""

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """The bot was uninstalled."""

    async def on_command_activity(self, turn_context: TurnContext) -> None:
        """A command activity (as in the C# SDK; botbuilder-python has no handler for it)."""

    async def on_command_result_activity(self, turn_context: TurnContext) -> None:
        """The result of a command."""

    async def on_unrecognized_activity_type(self, turn_context: TurnContext) -> None:
        """An activity type this handler does not route (trace, handoff, suggestion, ...)."""

    async def _invoke(self, turn_context: TurnContext) -> None:
        response = await self.on_invoke_activity(turn_context)
        if response is not None and INVOKE_RESPONSE_KEY not in turn_context.turn_state:
            await turn_context.send_activity(
                Activity(type=ActivityTypes.INVOKE_RESPONSE, value=response)
            )


_ROUTES: dict[str, str] = {
    ActivityTypes.MESSAGE: "on_message_activity",
    ActivityTypes.MESSAGE_UPDATE: "on_message_update_activity",
    ActivityTypes.MESSAGE_DELETE: "on_message_delete_activity",
    ActivityTypes.CONVERSATION_UPDATE: "on_conversation_update_activity",
    ActivityTypes.MESSAGE_REACTION: "on_message_reaction_activity",
    ActivityTypes.EVENT: "on_event_activity",
    ActivityTypes.INVOKE: "_invoke",
    ActivityTypes.END_OF_CONVERSATION: "on_end_of_conversation_activity",
    ActivityTypes.TYPING: "on_typing_activity",
    ActivityTypes.INSTALLATION_UPDATE: "on_installation_update",
    ActivityTypes.COMMAND: "on_command_activity",
    ActivityTypes.COMMAND_RESULT: "on_command_result_activity",
}
