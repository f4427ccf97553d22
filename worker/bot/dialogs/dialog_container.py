"""DialogContainer: a dialog that runs dialogs of its own on an inner stack."""

from __future__ import annotations

from worker.bot.dialogs.dialog import Dialog
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.dialogs.dialog_set import DialogSet


class DialogContainer(Dialog):
    """The base of ComponentDialog, as in botbuilder: `dialogs` holds the inner dialogs, and
    `create_child_context` gives the context of the inner stack (`DialogContext.child`)."""

    def __init__(self, dialog_id: str) -> None:
        super().__init__(dialog_id)
        self.dialogs = DialogSet.inner()

    def create_child_context(self, dialog_context: DialogContext) -> DialogContext | None:
        """The inner stack's context while this dialog is active in `dialog_context`."""
        raise NotImplementedError(f"{type(self).__name__} must implement create_child_context")

    def find_dialog(self, dialog_id: str) -> Dialog | None:
        """One of the inner dialogs, or None."""
        return self.dialogs.find_dialog(dialog_id)
