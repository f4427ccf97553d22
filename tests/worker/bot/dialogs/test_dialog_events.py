"""Dialog events: emit_event up the stack, on_dialog_event's interception, and
cancel_all_dialogs telling each dialog it cancels (and the parents' with cancel_parents)."""

from __future__ import annotations

from typing import Any

from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogEvent,
    DialogEvents,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)


class Listening(ComponentDialog):
    """A component that records the events that reach it, handling those named `handles`."""

    def __init__(self, dialog_id: str, inner: Any, handles: str | None = None) -> None:
        super().__init__(dialog_id)
        self.add_dialog(inner)
        self.handles = handles
        self.heard: list[tuple[str, Any]] = []

    async def _on_pre_bubble_event(
        self, dialog_context: DialogContext, dialog_event: DialogEvent
    ) -> bool:
        self.heard.append((dialog_event.name, dialog_event.value))
        return dialog_event.name == self.handles


def shouting_waterfall(log: list[bool]) -> WaterfallDialog:
    async def shout(step: WaterfallStepContext) -> DialogTurnResult:
        log.append(await step.emit_event("shout", "hi", bubble=True))
        log.append(await step.emit_event("whisper", "psst", bubble=False))
        return await step.prompt("text", PromptOptions("?"))

    return WaterfallDialog("steps", [shout])


async def test_an_event_bubbles_to_the_dialogs_above_until_one_handles_it() -> None:
    handled: list[bool] = []
    inner = Listening("inner", shouting_waterfall(handled))
    inner.add_dialog(TextPrompt("text"))
    outer = Listening("outer", inner, handles="shout")

    await DialogTestClient(outer).send("hi")

    # "shout" reaches inner (not handled there), then outer, which handles it;
    # "whisper" does not bubble: it stops at the waterfall, which handles no events.
    assert handled == [True, False]
    assert inner.heard == [("shout", "hi")]
    assert outer.heard == [("shout", "hi")]


async def test_events_are_botbuilders_names() -> None:
    assert f"{DialogEvents.cancel_dialog}" == "cancelDialog"  # a str, as botbuilder's
    assert DialogEvents.reprompt_dialog.value == "repromptDialog"
    assert DialogEvent() == DialogEvent(bubble=False, name="", value=None)


def asking(dialog_id: str, question: str) -> WaterfallDialog:
    async def ask(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("text", PromptOptions(question))

    return WaterfallDialog(dialog_id, [ask])


class Cancelling(ComponentDialog):
    """Cancels on "stop": its inner stack only, or with the parents' on "stop all"."""

    def __init__(self) -> None:
        super().__init__("cancelling")
        self.add_dialog(asking("inner.steps", "inner?"))
        self.add_dialog(TextPrompt("text"))
        self.results: list[DialogTurnResult] = []

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        text = inner_dc.context.activity.text
        if text in ("stop", "stop all"):
            result = await inner_dc.cancel_all_dialogs(text == "stop all", "custom", 7)
            self.results.append(result)
            return result
        return await super().on_continue_dialog(inner_dc)


async def test_cancel_parents_cancels_the_stacks_above_too() -> None:
    component = Cancelling()
    parent = Listening("parent", component)
    client = DialogTestClient(parent)
    await client.send("hi")
    assert [e["id"] for e in await client.stack()] == ["parent"]

    await client.send("stop all")

    # The inner stack is cancelled, then the parent context's dialogs (the component, after
    # being told "custom"), then the outermost (the listener, told "custom" too).
    assert [r.status for r in component.results] == [DialogTurnStatus.Cancelled]
    assert parent.heard == [("custom", 7)]
    assert await client.stack() == []


async def test_without_cancel_parents_only_the_own_stack_is_cancelled() -> None:
    component = Cancelling()
    client = DialogTestClient(
        WaterfallDialog("main", [lambda step: step.begin_dialog("cancelling")]), component
    )
    await client.send("hi")
    await client.send("stop")
    assert [r.status for r in component.results] == [DialogTurnStatus.Cancelled]
