"""DialogBot and DialogHelper, as the SDK's dialog samples each carry them: a bot that runs one
dialog on every message (continuing the stack stored in conversation state, or beginning the
dialog when it is empty) and saves both states at the end of the turn.

Shared by the ported samples (multi_turn_prompt, using_cards, custom_dialogs, complex_dialog);
`worker.bot.dialogs.run_dialog` does what DialogHelper.run_dialog does in one call.
"""

from __future__ import annotations

from worker.bot import (
    ActivityHandler,
    ConversationState,
    StatePropertyAccessor,
    TurnContext,
    UserState,
)
from worker.bot.dialogs import Dialog, DialogSet, DialogTurnStatus


class DialogHelper:
    @staticmethod
    async def run_dialog(
        dialog: Dialog, turn_context: TurnContext, accessor: StatePropertyAccessor
    ) -> None:
        dialogs = DialogSet(accessor)
        dialogs.add(dialog)
        context = await dialogs.create_context(turn_context)
        result = await context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await context.begin_dialog(dialog.id)


class DialogBot(ActivityHandler):
    def __init__(
        self, conversation_state: ConversationState, user_state: UserState, dialog: Dialog
    ) -> None:
        if conversation_state is None or user_state is None or dialog is None:
            raise TypeError("[DialogBot]: conversation_state, user_state and dialog are required")
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.dialog = dialog

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self.conversation_state.save_changes(turn_context)
        await self.user_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await DialogHelper.run_dialog(
            self.dialog, turn_context, self.conversation_state.create_property("DialogState")
        )
