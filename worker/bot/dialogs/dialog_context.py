"""DialogContext: the dialog stack of one turn, and the operations that move it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from worker.bot.dialogs.dialog import (
    Dialog,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
)
from worker.bot.dialogs.dialog_events import DialogEvent, DialogEvents
from worker.bot.turn_context import TurnContext

if TYPE_CHECKING:
    from worker.bot.dialogs.dialog_set import DialogSet

STACK = "dialogStack"
"""The stored shape is the Bot Framework's portable one: `{"dialogStack": [{"id", "state"}]}`,
top of the stack first."""


class DialogError(Exception):
    """A dialog id that is not in the set, or a stack that names an unknown dialog."""


P = ParamSpec("P")
R = TypeVar("R")


def _describes_errors(
    operation: Callable[Concatenate[DialogContext, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[DialogContext, P], Coroutine[Any, Any, R]]:
    """An error escaping the operation carries where the dialogs were, as botbuilder's does:
    `err.data["DialogContext"]` is `{"active_dialog", "parent", "stack"}` (the innermost
    context's, set once), for `on_turn_error` and logs."""

    @functools.wraps(operation)
    async def described(context: DialogContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await operation(context, *args, **kwargs)
        except Exception as error:
            context._describe(error)
            raise

    return described


class DialogContext:
    """The stack stored in `state` (plain data) plus the set of dialogs that may run on it.

    An error escaping one of its operations carries `data["DialogContext"]`: the active
    dialog's id, the parent context's and the stack ids (botbuilder's shape).
    """

    def __init__(
        self, dialog_set: DialogSet, turn_context: TurnContext, state: dict[str, Any]
    ) -> None:
        self.dialogs = dialog_set
        self.context = turn_context
        self.state = state
        self.state.setdefault(STACK, [])
        self.parent: DialogContext | None = None

    @property
    def stack(self) -> list[dict[str, Any]]:
        """The stored stack entries, active dialog first."""
        stack: list[dict[str, Any]] = self.state[STACK]
        return stack

    @property
    def active_dialog(self) -> DialogInstance | None:
        return DialogInstance(self.stack[0]) if self.stack else None

    @property
    def child(self) -> DialogContext | None:
        """The inner context of the active dialog, if it is a container (ComponentDialog)."""
        instance = self.active_dialog
        dialog = self.dialogs.find_dialog(instance.id) if instance else None
        # A DialogContainer (ComponentDialog) has one; dialog_container.py imports this module.
        create_child_context = getattr(dialog, "create_child_context", None)
        if not callable(create_child_context):
            return None
        child: DialogContext | None = create_child_context(self)
        return child

    @_describes_errors
    async def begin_dialog(self, dialog_id: str, options: Any = None) -> DialogTurnResult:
        """Push the dialog and begin it."""
        dialog = await self._require(dialog_id)
        self.stack.insert(0, DialogInstance.create(dialog_id).entry)
        return await dialog.begin_dialog(self, options)

    @_describes_errors
    async def prompt(self, dialog_id: str, options: Any) -> DialogTurnResult:
        """Begin a prompt with its PromptOptions."""
        if options is None:
            raise TypeError("prompt() needs PromptOptions")
        return await self.begin_dialog(dialog_id, options)

    @_describes_errors
    async def continue_dialog(self) -> DialogTurnResult:
        """Hand the turn to the active dialog; `Empty` if there is none."""
        instance = self.active_dialog
        if instance is None:
            return DialogTurnResult(DialogTurnStatus.Empty)
        dialog = await self._require(instance.id)
        return await dialog.continue_dialog(self)

    @_describes_errors
    async def end_dialog(self, result: Any = None) -> DialogTurnResult:
        """End the active dialog and resume its parent with `result` (or complete)."""
        await self._end_active_dialog(DialogReason.EndCalled)
        instance = self.active_dialog
        if instance is None:
            return DialogTurnResult(DialogTurnStatus.Complete, result)
        dialog = await self._require(instance.id)
        return await dialog.resume_dialog(self, DialogReason.EndCalled, result)

    @_describes_errors
    async def cancel_all_dialogs(
        self,
        cancel_parents: bool | None = None,
        event_name: str | None = None,
        event_value: Any = None,
    ) -> DialogTurnResult:
        """End every dialog on this stack (`Cancelled`; `Empty` if there was none and no
        parent), and with `cancel_parents` the parent contexts' too. Before each dialog after
        the first is ended it is told `event_name` (`DialogEvents.cancel_dialog`), and may stop
        the cancelling by handling it."""
        if not self.stack and self.parent is None:
            return DialogTurnResult(DialogTurnStatus.Empty)
        name = event_name or DialogEvents.cancel_dialog
        context: DialogContext | None = self
        notify = False
        while context is not None:
            if context.stack:
                if notify and await context.emit_event(name, event_value, False, False):
                    break
                await context._end_active_dialog(DialogReason.CancelCalled)
            else:
                context = context.parent if cancel_parents else None
            notify = True
        return DialogTurnResult(DialogTurnStatus.Cancelled)

    @_describes_errors
    async def emit_event(
        self, name: str, value: Any = None, bubble: bool = True, from_leaf: bool = False
    ) -> bool:
        """Raise an event for the active dialog (the innermost one with `from_leaf`), which
        may hand it up to the dialogs that started it (`Dialog.on_dialog_event`): True if one
        handled it."""
        context = self
        while from_leaf and (child := context.child) is not None:
            context = child
        instance = context.active_dialog
        if instance is None:
            return False
        dialog = await context.find_dialog(instance.id)
        if dialog is None:
            return False
        return await dialog.on_dialog_event(context, DialogEvent(bubble, name, value))

    @_describes_errors
    async def replace_dialog(self, dialog_id: str, options: Any = None) -> DialogTurnResult:
        """End the active dialog without resuming its parent, and begin `dialog_id` instead."""
        await self._end_active_dialog(DialogReason.ReplaceCalled)
        return await self.begin_dialog(dialog_id, options)

    @_describes_errors
    async def reprompt_dialog(self) -> None:
        """Ask the active dialog to prompt again."""
        instance = self.active_dialog
        if instance is not None:
            dialog = await self._require(instance.id)
            await dialog.reprompt_dialog(self.context, instance)

    async def find_dialog(self, dialog_id: str) -> Dialog | None:
        """This set's dialog, else the parent context's (a component can start outer dialogs)."""
        dialog = self.dialogs.find_dialog(dialog_id)
        if dialog is None and self.parent is not None:
            dialog = await self.parent.find_dialog(dialog_id)
        return dialog

    def _describe(self, error: Exception) -> None:
        data = getattr(error, "data", None)
        if not isinstance(data, dict):
            data = {}
            try:
                error.data = data  # type: ignore[attr-defined]
            except AttributeError:  # an exception type without attributes: leave it be
                return
        if "DialogContext" not in data:
            parent = self.parent.active_dialog if self.parent is not None else None
            data["DialogContext"] = {
                "active_dialog": self.active_dialog.id if self.active_dialog else None,
                "parent": parent.id if parent is not None else None,
                "stack": [entry.get("id") for entry in self.stack],
            }

    async def _require(self, dialog_id: str) -> Dialog:
        dialog = await self.find_dialog(dialog_id)
        if dialog is None:
            raise DialogError(f"no dialog with id {dialog_id!r}: add it to the DialogSet")
        return dialog

    async def _end_active_dialog(self, reason: DialogReason) -> None:
        instance = self.active_dialog
        if instance is None:
            return
        dialog = await self.find_dialog(instance.id)
        if dialog is not None:
            await dialog.end_dialog(self.context, instance, reason)
        self.stack.pop(0)
