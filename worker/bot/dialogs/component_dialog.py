"""ComponentDialog: a dialog made of dialogs, with an inner stack kept in its own state."""

from __future__ import annotations

from typing import Any

from worker.bot.dialogs.dialog import (
    Dialog,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
)
from worker.bot.dialogs.dialog_container import DialogContainer
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.turn_context import TurnContext

PERSISTED_DIALOG_STATE = "dialogs"


class ComponentDialog(DialogContainer):
    """Add inner dialogs with `add_dialog`; the first added starts unless `initial_dialog_id`
    says otherwise. Override `on_continue_dialog` to interrupt (help, cancel) before the inner
    dialog sees the turn."""

    persisted_dialog_state = PERSISTED_DIALOG_STATE

    def __init__(self, dialog_id: str) -> None:
        super().__init__(dialog_id)
        self.initial_dialog_id: str | None = None

    def add_dialog(self, dialog: Dialog) -> ComponentDialog:
        self.dialogs.add(dialog)
        if self.initial_dialog_id is None:
            self.initial_dialog_id = dialog.id
        return self

    # botbuilder's ComponentDialog.find_dialog is awaited where its DialogContainer's is not.
    async def find_dialog(self, dialog_id: str) -> Dialog | None:  # type: ignore[override]
        """One of the inner dialogs, or None."""
        return self.dialogs.find_dialog(dialog_id)

    def create_child_context(self, dialog_context: DialogContext) -> DialogContext | None:
        instance = dialog_context.active_dialog
        return self._inner(dialog_context, instance) if instance else None

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        instance = dialog_context.active_dialog
        assert instance is not None
        instance.state[PERSISTED_DIALOG_STATE] = {}
        inner = self._inner(dialog_context, instance)
        result = await self.on_begin_dialog(inner, options)
        if result.status == DialogTurnStatus.Waiting:
            return Dialog.end_of_turn
        return await self.end_component(dialog_context, result.result)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        instance = dialog_context.active_dialog
        assert instance is not None
        result = await self.on_continue_dialog(self._inner(dialog_context, instance))
        if result.status == DialogTurnStatus.Waiting:
            return Dialog.end_of_turn
        return await self.end_component(dialog_context, result.result)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: Any = None
    ) -> DialogTurnResult:
        # An outer dialog this component started ended: the inner dialog asks again.
        instance = dialog_context.active_dialog
        assert instance is not None
        await self.reprompt_dialog(dialog_context.context, instance)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        inner = DialogContext(self.dialogs, context, _inner_state(instance))
        await inner.reprompt_dialog()
        await self.on_reprompt_dialog(context, instance)

    async def end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        if reason == DialogReason.CancelCalled:
            inner = DialogContext(self.dialogs, context, _inner_state(instance))
            await inner.cancel_all_dialogs()
        await self.on_end_dialog(context, instance, reason)

    async def on_begin_dialog(
        self, inner_dc: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        """Begin the initial inner dialog."""
        if self.initial_dialog_id is None:
            raise TypeError(f"ComponentDialog {self.id!r} has no dialogs")
        return await inner_dc.begin_dialog(self.initial_dialog_id, options)

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        """Continue the inner stack. Override to interrupt first."""
        return await inner_dc.continue_dialog()

    async def on_end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        """The component is leaving the stack."""

    async def on_reprompt_dialog(self, turn_context: TurnContext, instance: DialogInstance) -> None:
        """The component was asked to prompt again."""

    async def end_component(self, outer_dc: DialogContext, result: Any = None) -> DialogTurnResult:
        """The inner stack finished: end this component with its result."""
        return await outer_dc.end_dialog(result)

    def _inner(self, outer: DialogContext, instance: DialogInstance) -> DialogContext:
        inner = DialogContext(self.dialogs, outer.context, _inner_state(instance))
        inner.parent = outer
        return inner


def _inner_state(instance: DialogInstance) -> dict[str, Any]:
    state: dict[str, Any] = instance.state.setdefault(PERSISTED_DIALOG_STATE, {})
    return state
