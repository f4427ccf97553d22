"""The dialog core: ports of the SDK's waterfall, component, replace and cancel scenarios,
run through DialogTestClient (the stack is reloaded from stored plain data every turn)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.dialogs.harness import DialogTestClient
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogReason,
    DialogSet,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.dialogs.dialog import DialogInstance
from worker.bot.state import ConversationState
from worker.bot.turn_context import TurnContext


def texts(activities: list[Any]) -> list[str]:
    return [a.text for a in activities if a.type == "message"]


async def ask(step: WaterfallStepContext, text: str) -> DialogTurnResult:
    return await step.prompt("text", PromptOptions(prompt=text))


def steps_recording(log: list[str]) -> list[Any]:
    async def one(step: WaterfallStepContext) -> DialogTurnResult:
        log.append(f"1:{step.index}:{step.reason.value}")
        step.values["first"] = "kept"
        return await ask(step, "step 1")

    async def two(step: WaterfallStepContext) -> DialogTurnResult:
        log.append(f"2:{step.result}:{step.values['first']}")
        return await step.next("skipped")

    async def three(step: WaterfallStepContext) -> DialogTurnResult:
        log.append(f"3:{step.result}:{step.reason.value}")
        return await ask(step, "step 3")

    async def four(step: WaterfallStepContext) -> DialogTurnResult:
        log.append(f"4:{step.result}:{step.options['n']}")
        return await step.end_dialog("done")

    return [one, two, three, four]


async def test_waterfall_runs_its_steps_in_order_across_turns() -> None:
    log: list[str] = []
    client = DialogTestClient(
        WaterfallDialog("w", steps_recording(log)), TextPrompt("text"), options={"n": 7}
    )
    assert texts(await client.send("hi")) == ["step 1"]
    assert texts(await client.send("a")) == ["step 3"]
    assert client.result is not None and client.result.status == DialogTurnStatus.Waiting
    assert texts(await client.send("b")) == []
    assert client.result is not None
    assert (client.result.status, client.result.result) == (DialogTurnStatus.Complete, "done")
    assert log == ["1:0:beginCalled", "2:a:kept", "3:skipped:nextCalled", "4:b:7"]
    assert await client.stack() == []


async def test_next_may_be_called_once_per_step() -> None:
    async def twice(step: WaterfallStepContext) -> DialogTurnResult:
        await step.next()
        return await step.next()

    async def last(step: WaterfallStepContext) -> DialogTurnResult:
        return DialogTurnResult(DialogTurnStatus.Waiting)

    client = DialogTestClient(WaterfallDialog("w", [twice, last]))
    with pytest.raises(RuntimeError, match="already called"):
        await client.send("hi")


class Booking(ComponentDialog):
    """Two questions inside a component; the component ends with both answers."""

    def __init__(self) -> None:
        super().__init__("booking")
        self.add_dialog(WaterfallDialog("booking.steps", [self.where, self.when, self.done]))
        self.add_dialog(TextPrompt("text"))
        self.ended: list[str] = []

    async def where(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await ask(step, "where?")

    async def when(self, step: WaterfallStepContext) -> DialogTurnResult:
        step.values["where"] = step.result
        return await ask(step, "when?")

    async def done(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog({"where": step.values["where"], "when": step.result})

    async def on_end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        self.ended.append(reason.value)


class Interrupting(Booking):
    """The CancelAndHelpDialog pattern: look at the turn before the inner dialog does."""

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        text = (inner_dc.context.activity.text or "").lower()
        if text == "help":
            await inner_dc.context.send_activity("help text")
            return DialogTurnResult(DialogTurnStatus.Waiting)
        if text == "cancel":
            await inner_dc.context.send_activity("Cancelling…")
            return await inner_dc.cancel_all_dialogs()
        return await super().on_continue_dialog(inner_dc)


def main_dialog(component: Booking) -> list[Any]:
    async def start(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog(component.id)

    async def report(step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"result {step.result}")
        return await step.replace_dialog("main", "again")

    return [start, report]


async def test_a_component_runs_its_inner_stack_and_returns_to_its_parent() -> None:
    booking = Booking()
    client = DialogTestClient(WaterfallDialog("main", main_dialog(booking)), booking)
    assert texts(await client.send("hi")) == ["where?"]
    stack = await client.stack()
    assert [entry["id"] for entry in stack] == ["booking", "main"]
    assert [e["id"] for e in stack[0]["state"]["dialogs"]["dialogStack"]] == [
        "text",
        "booking.steps",
    ]
    assert texts(await client.send("Paris")) == ["when?"]
    # the component ends, main reports, then replaces itself: a fresh main, a fresh booking
    assert texts(await client.send("tomorrow")) == [
        "result {'where': 'Paris', 'when': 'tomorrow'}",
        "where?",
    ]
    assert booking.ended == ["endCalled"]
    assert [entry["id"] for entry in await client.stack()] == ["booking", "main"]


async def test_help_interrupts_one_turn_and_the_dialog_continues() -> None:
    booking = Interrupting()
    client = DialogTestClient(WaterfallDialog("main", main_dialog(booking)), booking)
    await client.send("hi")
    await client.send("Paris")
    assert texts(await client.send("help")) == ["help text"]
    assert texts(await client.send("tomorrow")) == [
        "result {'where': 'Paris', 'when': 'tomorrow'}",
        "where?",
    ]


async def test_cancel_ends_the_component_and_the_parent_resumes_with_none() -> None:
    booking = Interrupting()
    client = DialogTestClient(WaterfallDialog("main", main_dialog(booking)), booking)
    await client.send("hi")
    assert texts(await client.send("cancel")) == ["Cancelling…", "result None", "where?"]
    assert booking.ended == ["endCalled"]


async def test_cancel_all_from_the_top_cancels_inner_dialogs_too() -> None:
    """A bot's global "reset": cancel_all on the outer context ends the component (and its
    inner stack) with reason cancelCalled."""
    booking = Booking()
    client = DialogTestClient(WaterfallDialog("main", main_dialog(booking)), booking)
    await client.send("hi")
    assert len(await client.stack()) == 2

    state = ConversationState(client.storage)
    dialogs = DialogSet(state.create_property("DialogState"))
    dialogs.add(WaterfallDialog("main", main_dialog(booking))).add(booking)
    inbound = message("reset", conversation=client.conversation)
    dc = await dialogs.create_context(TurnContext(RecordingSender(), Activity.from_dict(inbound)))

    assert (await dc.cancel_all_dialogs()).status == DialogTurnStatus.Cancelled
    assert dc.stack == [] and booking.ended == ["cancelCalled"]
    assert (await dc.cancel_all_dialogs()).status == DialogTurnStatus.Empty


async def test_an_unknown_dialog_id_is_a_clear_error() -> None:
    async def start(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.begin_dialog("nowhere")

    client = DialogTestClient(WaterfallDialog("w", [start]))
    with pytest.raises(Exception, match="no dialog with id 'nowhere'"):
        await client.send("hi")
