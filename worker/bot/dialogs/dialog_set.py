"""DialogSet: the dialogs a bot (or a component) can start, by id."""

from __future__ import annotations

from typing import Any

from worker.bot.dialogs.dialog import Dialog
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.state import StatePropertyAccessor
from worker.bot.turn_context import TurnContext


class DialogSet:
    """Dialogs by id. `create_context` loads the stack from the state property accessor
    given; a component's inner set (`DialogSet.inner()`) has none and is given its stack."""

    def __init__(
        self, dialog_state: StatePropertyAccessor | None = None, *, _inner: bool = False
    ) -> None:
        if dialog_state is None and not _inner:
            # As botbuilder: only a container's (or DialogManager's) set has no state of its own.
            raise TypeError(
                "DialogSet needs dialog_state (a state property accessor, e.g. "
                'conversation_state.create_property("DialogState")); a dialog container\'s '
                "inner set is DialogSet.inner()"
            )
        self._dialog_state = dialog_state
        self._dialogs: dict[str, Dialog] = {}

    @classmethod
    def inner(cls) -> DialogSet:
        """A set without state of its own: the dialogs of a ComponentDialog (or DialogManager),
        run on a stack their owner holds."""
        return cls(None, _inner=True)

    def add(self, dialog: Dialog) -> DialogSet:
        if not isinstance(dialog, Dialog):
            raise TypeError(f"DialogSet.add(): {dialog!r} is not a Dialog")
        if dialog.id in self._dialogs:
            raise ValueError(f"DialogSet.add(): a dialog with id {dialog.id!r} is already added")
        self._dialogs[dialog.id] = dialog
        return self

    async def find(self, dialog_id: str) -> Dialog | None:
        """The dialog added with this id, or None (awaited, as botbuilder's; `find_dialog` is
        the same without awaiting)."""
        return self._dialogs.get(dialog_id)

    def find_dialog(self, dialog_id: str) -> Dialog | None:
        """The dialog added with this id, or None."""
        return self._dialogs.get(dialog_id)

    async def create_context(self, turn_context: TurnContext) -> DialogContext:
        """A DialogContext over the stack stored in state (created empty the first time)."""
        if self._dialog_state is None:
            raise TypeError("DialogSet.create_context(): the set was created without dialog_state")
        stored: Any = await self._dialog_state.get(turn_context, dict)
        if not isinstance(stored, dict):
            raise TypeError("the DialogState property does not hold a dialog stack")
        return DialogContext(self, turn_context, stored)
