"""run_dialog: the one call an ActivityHandler makes to drive a dialog each turn."""

from __future__ import annotations

from worker.bot.dialogs.dialog import Dialog, DialogTurnResult, DialogTurnStatus
from worker.bot.dialogs.dialog_set import DialogSet
from worker.bot.state import StatePropertyAccessor
from worker.bot.turn_context import TurnContext


async def run_dialog(
    dialog: Dialog, turn_context: TurnContext, accessor: StatePropertyAccessor
) -> DialogTurnResult:
    """Continue the dialog stack stored under `accessor`; begin `dialog` when it is empty."""
    dialog_set = DialogSet(accessor)
    dialog_set.add(dialog)
    dialog_context = await dialog_set.create_context(turn_context)
    result = await dialog_context.continue_dialog()
    if result.status == DialogTurnStatus.Empty:
        result = await dialog_context.begin_dialog(dialog.id)
    return result


class DialogExtensions:
    """botbuilder's home of `run_dialog`: `await DialogExtensions.run_dialog(dialog,
    turn_context, accessor)` is `run_dialog` (skills' end-of-conversation handling aside:
    turnstream bots are not skills)."""

    @staticmethod
    async def run_dialog(
        dialog: Dialog, turn_context: TurnContext, accessor: StatePropertyAccessor
    ) -> DialogTurnResult:
        """Continue the stored dialog stack; begin `dialog` when it is empty."""
        return await run_dialog(dialog, turn_context, accessor)
