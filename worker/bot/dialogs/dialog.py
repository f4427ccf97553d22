"""Dialog: one step of a multi-turn conversation, and what its turns return."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from worker.bot.dialogs.dialog_events import DialogEvent
from worker.bot.turn_context import TurnContext

if TYPE_CHECKING:
    from worker.bot.dialogs.dialog_context import DialogContext


class DialogTurnStatus(enum.Enum):
    """Where the dialog stack stands after a turn."""

    Empty = "empty"
    """The stack is empty: nothing was running."""
    Waiting = "waiting"
    """The active dialog is waiting for the user's next activity."""
    Complete = "complete"
    """The dialog that was started or continued ended; `result` holds its value."""
    Cancelled = "cancelled"
    """The dialogs were cancelled."""


class DialogReason(enum.Enum):
    """Why a dialog is being resumed or ended."""

    BeginCalled = "beginCalled"
    ContinueCalled = "continueCalled"
    EndCalled = "endCalled"
    ReplaceCalled = "replaceCalled"
    CancelCalled = "cancelCalled"
    NextCalled = "nextCalled"


@dataclass
class DialogTurnResult:
    """The status of the stack after a turn, and the result of a dialog that ended."""

    status: DialogTurnStatus
    result: Any = None


class DialogInstance:
    """One entry of the stack: the dialog's id and its own state, as plain stored data.

    It is a view over the stored dict `{"id": ..., "state": {...}}`, so changes to `state` are
    the stored state: nothing to copy back, and nothing but plain data is ever stored.
    """

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = entry

    @classmethod
    def create(cls, dialog_id: str) -> DialogInstance:
        return cls({"id": dialog_id, "state": {}})

    @property
    def id(self) -> str:
        dialog_id: str = self.entry["id"]
        return dialog_id

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.entry.setdefault("state", {})
        return state


class Dialog:
    """Base class of every dialog. Override `begin_dialog`; the others have SDK defaults."""

    end_of_turn = DialogTurnResult(DialogTurnStatus.Waiting)
    """Return this to wait for the user's next activity."""

    def __init__(self, dialog_id: str) -> None:
        if not dialog_id or not isinstance(dialog_id, str):
            raise TypeError("a dialog needs a non-empty string id")
        self.id = dialog_id

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        """The dialog was pushed onto the stack."""
        raise NotImplementedError(f"{type(self).__name__} must implement begin_dialog")

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """The user answered while this dialog was active. Default: end the dialog."""
        return await dialog_context.end_dialog(None)

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: Any = None
    ) -> DialogTurnResult:
        """A child dialog ended and this one is active again. Default: end with its result."""
        return await dialog_context.end_dialog(result)

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Ask again (after an interruption). Default: nothing."""

    async def end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        """The dialog is leaving the stack (ended, cancelled or replaced). Default: nothing."""

    async def on_dialog_event(
        self, dialog_context: DialogContext, dialog_event: DialogEvent
    ) -> bool:
        """An event raised by this dialog or one it started (`DialogContext.emit_event`): True
        if handled. Default: `_on_pre_bubble_event`, then the parent context's dialogs if the
        event bubbles, then `_on_post_bubble_event`."""
        handled = await self._on_pre_bubble_event(dialog_context, dialog_event)
        if not handled and dialog_event.bubble and dialog_context.parent is not None:
            handled = await dialog_context.parent.emit_event(
                dialog_event.name, dialog_event.value, True, False
            )
        if not handled:
            handled = await self._on_post_bubble_event(dialog_context, dialog_event)
        return handled

    async def _on_pre_bubble_event(
        self, dialog_context: DialogContext, dialog_event: DialogEvent
    ) -> bool:
        """Intercept an event before the dialogs above see it (True stops it). Default: no."""
        return False

    async def _on_post_bubble_event(
        self, dialog_context: DialogContext, dialog_event: DialogEvent
    ) -> bool:
        """Handle an event no dialog above handled (True if handled). Default: no."""
        return False
