"""AutoSignInMiddleware: the user signs in before the bot sees their message, and the message
that was interrupted by the sign-in is run once they have (the Agents SDK's auto sign-in).

For a message from a user without a token for the connection, the middleware sends the sign-in
card (an `OAuthPrompt` of its own) and keeps the message. What completes the sign-in (a magic
code, Teams' `signin/verifyState` or `signin/tokenExchange`, a `tokens/response` event) is
answered by the prompt, and the kept message then goes to the bot in the same turn, with the
token in `turn_context.turn_state[SIGNED_IN_TOKEN_KEY]`. Messages from a signed-in user go
straight through, the token set the same way. The kept message and the prompt's state live in
conversation state, so the sign-in may start on one worker and finish on another.
"""

from __future__ import annotations

from typing import Any

from shared.schema.activity import Activity, ActivityTypes
from worker.bot.dialogs.dialog import DialogTurnStatus
from worker.bot.dialogs.dialog_set import DialogSet
from worker.bot.dialogs.prompts.oauth_prompt import OAuthPrompt, OAuthPromptSettings
from worker.bot.state import ConversationState
from worker.bot.turn_context import TurnContext
from worker.bot.types import NextHandler

SIGNED_IN_TOKEN_KEY = "turnstream.SignedInToken"
"""turn_state key of the signed-in user's `TokenResponse` for the middleware's connection."""

_PROMPT = "auto-sign-in"


class AutoSignInMiddleware:
    """Signs the user in with `settings` (an `OAuthPromptSettings`) before their messages reach
    the bot; `conversation_state` keeps the sign-in in progress and the interrupted message.

    Put it after `AutoSaveStateMiddleware` (which then saves what it kept), or it saves the
    conversation state itself. Activities other than messages pass through untouched unless
    a sign-in is in progress and they complete it.
    """

    def __init__(
        self, conversation_state: ConversationState, settings: OAuthPromptSettings
    ) -> None:
        self._state = conversation_state
        self._dialogs = DialogSet(conversation_state.create_property("AutoSignInDialogState"))
        self.prompt = OAuthPrompt(_PROMPT, settings)
        self._dialogs.add(self.prompt)
        self._kept = conversation_state.create_property("AutoSignInInterrupted")

    async def on_turn(self, context: TurnContext, logic: NextHandler) -> None:
        dialog_context = await self._dialogs.create_context(context)
        if dialog_context.active_dialog is not None:
            result = await dialog_context.continue_dialog()
        elif context.activity.type == ActivityTypes.MESSAGE:
            result = await dialog_context.begin_dialog(_PROMPT)
            if result.status == DialogTurnStatus.Waiting:  # the card went out: keep the message
                await self._kept.set(context, context.activity.to_dict())
        else:
            await logic()
            return
        await self._state.save_changes(context)

        if result.status == DialogTurnStatus.Waiting:
            return  # signing in: the bot sees nothing yet
        token = result.result
        if token is None:  # the prompt gave up (timeout): the user can start again
            await self._kept.delete(context)
            await self._state.save_changes(context)
            if context.activity.type == ActivityTypes.MESSAGE:
                await logic()
            return
        context.turn_state[SIGNED_IN_TOKEN_KEY] = token
        kept: dict[str, Any] | None = await self._kept.get(context)
        if kept is None:  # signed in already: this message is the one to run
            await logic()
            return
        await self._kept.delete(context)
        await self._state.save_changes(context)
        await _run_as(context, Activity.from_dict(kept), logic)


async def _run_as(context: TurnContext, activity: Activity, logic: NextHandler) -> None:
    """Run the rest of the turn on the interrupted message (its replies go to the same
    conversation), then put the turn's own activity back."""
    own = context.activity
    context.activity = activity
    try:
        await logic()
    finally:
        context.activity = own
