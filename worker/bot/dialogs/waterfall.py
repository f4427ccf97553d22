"""WaterfallDialog: a fixed sequence of steps; each step asks, the next gets the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.dialog import Dialog, DialogReason, DialogTurnResult
from worker.bot.dialogs.dialog_context import DialogContext

OPTIONS = "options"
VALUES = "values"
STEP_INDEX = "stepIndex"

WaterfallStep = Callable[["WaterfallStepContext"], Awaitable[DialogTurnResult]]


class Record(dict[str, Any]):
    """A dict that also answers attribute access: options that came back from storage as plain
    data read like the object that was passed in (`step_context.options.destination`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


class WaterfallStepContext(DialogContext):
    """What a step sees: `options`, `values` (kept across steps), `result` of the previous
    step, `index`, and `next(result)` to skip ahead. It is the waterfall's DialogContext, so
    `begin_dialog`, `prompt`, `end_dialog` and `replace_dialog` work as usual."""

    def __init__(
        self,
        waterfall: WaterfallDialog,
        dialog_context: DialogContext,
        index: int,
        reason: DialogReason,
        result: Any,
    ) -> None:
        super().__init__(dialog_context.dialogs, dialog_context.context, dialog_context.state)
        self.parent = dialog_context.parent
        self._waterfall = waterfall
        self.index = index
        self.reason = reason
        self.result = result
        self._next_called = False

    @property
    def _state(self) -> dict[str, Any]:
        instance = self.active_dialog
        assert instance is not None
        return instance.state

    @property
    def options(self) -> Any:
        options = self._state.get(OPTIONS)
        if isinstance(options, dict) and not isinstance(options, Record):
            options = self._state[OPTIONS] = Record(options)
        return options

    @property
    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = self._state.setdefault(VALUES, {})
        return values

    async def next(self, result: Any = None) -> DialogTurnResult:
        """Go on to the next step now, with `result`; at most once per step."""
        if self._next_called:
            raise RuntimeError(
                "WaterfallStepContext.next(): already called for "
                f"{self._waterfall.id}[{self.index}]"
            )
        self._next_called = True
        return await self._waterfall.resume_dialog(self, DialogReason.NextCalled, result)


class WaterfallDialog(Dialog):
    """Runs `steps` in order. A step returns `end_of_turn` (usually via a prompt) to wait, or
    the result of `next()` / `end_dialog()`. After the last step the dialog ends with the last
    step's result."""

    def __init__(self, dialog_id: str, steps: Sequence[WaterfallStep] | None = None) -> None:
        super().__init__(dialog_id)
        self._steps: list[WaterfallStep] = []
        for step in steps or ():
            self.add_step(step)

    def add_step(self, step: WaterfallStep) -> WaterfallDialog:
        if not callable(step):
            raise TypeError("WaterfallDialog.add_step(): a step must be an async callable")
        self._steps.append(step)
        return self

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        instance = dialog_context.active_dialog
        assert instance is not None
        instance.state[OPTIONS] = options
        instance.state[VALUES] = {}
        return await self.run_step(dialog_context, 0, DialogReason.BeginCalled, None)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        if dialog_context.context.activity.type != ActivityTypes.MESSAGE:
            return Dialog.end_of_turn
        return await self.resume_dialog(
            dialog_context, DialogReason.ContinueCalled, dialog_context.context.activity.text
        )

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: Any = None
    ) -> DialogTurnResult:
        instance = dialog_context.active_dialog
        assert instance is not None
        return await self.run_step(dialog_context, instance.state[STEP_INDEX] + 1, reason, result)

    async def on_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        """Run one step; override to wrap every step (logging, telemetry)."""
        return await self._steps[step_context.index](step_context)

    async def run_step(
        self, dialog_context: DialogContext, index: int, reason: DialogReason, result: Any
    ) -> DialogTurnResult:
        if index >= len(self._steps):
            return await dialog_context.end_dialog(result)
        instance = dialog_context.active_dialog
        assert instance is not None
        instance.state[STEP_INDEX] = index
        return await self.on_step(WaterfallStepContext(self, dialog_context, index, reason, result))
