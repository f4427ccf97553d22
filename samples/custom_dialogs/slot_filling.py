"""SlotFillingDialog: a waterfall driven by a list of slots instead of a list of steps."""

from __future__ import annotations

from typing import Any

from worker.bot import ActivityTypes, MessageFactory
from worker.bot.dialogs import (
    Dialog,
    DialogContext,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    PromptOptions,
)


class SlotDetails:
    """A value to collect: its name, the dialog that asks for it, and what that dialog says."""

    def __init__(
        self,
        name: str,
        dialog_id: str,
        options: PromptOptions | None = None,
        prompt: str | None = None,
        retry_prompt: str | None = None,
    ) -> None:
        self.name = name
        self.dialog_id = dialog_id
        self.options = options or PromptOptions(
            prompt=MessageFactory.text(prompt) if prompt is not None else None,
            retry_prompt=MessageFactory.text(retry_prompt) if retry_prompt is not None else None,
        )


class SlotFillingDialog(Dialog):
    """Asks for the first slot without a value, and ends with every slot's value once all are
    filled. What it has collected, and which slot it asked for last, is in its own dialog
    state: plain data any worker can continue from."""

    SLOT_NAME = "slot"
    PERSISTED_VALUES = "values"

    def __init__(self, dialog_id: str, slots: list[SlotDetails]) -> None:
        super().__init__(dialog_id)
        self.slots = slots

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        if dialog_context.context.activity.type != ActivityTypes.message:
            return await dialog_context.end_dialog({})
        return await self._run_prompt(dialog_context)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        if dialog_context.context.activity.type != ActivityTypes.message:
            return Dialog.end_of_turn
        return await self._run_prompt(dialog_context)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: Any = None
    ) -> DialogTurnResult:
        # The slot's dialog ended: its result is the value of the slot asked for last.
        active = _active(dialog_context)
        self._get_persisted_values(active)[active.state[self.SLOT_NAME]] = result
        return await self._run_prompt(dialog_context)

    async def _run_prompt(self, dialog_context: DialogContext) -> DialogTurnResult:
        active = _active(dialog_context)
        values = self._get_persisted_values(active)
        for slot in self.slots:
            if slot.name not in values:
                active.state[self.SLOT_NAME] = slot.name
                return await dialog_context.begin_dialog(slot.dialog_id, slot.options)
        return await dialog_context.end_dialog(values)

    def _get_persisted_values(self, dialog_instance: DialogInstance) -> dict[str, Any]:
        values: dict[str, Any] | None = dialog_instance.state.get(self.PERSISTED_VALUES)
        if not values:
            values = {}
            dialog_instance.state[self.PERSISTED_VALUES] = values
        return values


def _active(dialog_context: DialogContext) -> DialogInstance:
    active = dialog_context.active_dialog
    if active is None:  # a dialog's own methods always run with it on top of the stack
        raise RuntimeError("SlotFillingDialog is not on the dialog stack")
    return active
