"""ActivityPrompt, DialogSet.find/find_dialog, DialogContainer, DialogExtensions and the context
botbuilder attaches to dialog errors."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.dialogs.harness import DialogTestClient
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.dialogs import (
    ActivityPrompt,
    ComponentDialog,
    DialogContainer,
    DialogExtensions,
    DialogSet,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.state import ConversationState
from worker.bot.storage import MemoryStorage
from worker.bot.turn_context import TurnContext


async def a_payment_event(prompt: PromptValidatorContext[Activity]) -> bool:
    activity = prompt.recognized.value
    if activity is not None and activity.type == "event" and activity.name == "paid":
        return True
    await prompt.context.send_activity(f"still waiting ({prompt.attempt_count})")
    return False


async def test_an_activity_prompt_waits_for_the_activity_its_validator_accepts() -> None:
    client = DialogTestClient(
        ActivityPrompt("payment", a_payment_event), options=PromptOptions("Pay, please.")
    )
    assert [r.text for r in await client.send("hi")] == ["Pay, please."]

    assert [r.text for r in await client.send("done?")] == ["still waiting (1)"]
    assert [r.text for r in await client.send({"type": "event", "name": "other"})] == [
        "still waiting (2)"
    ]
    assert await client.send({"type": "event", "name": "paid", "value": 12}) == []

    assert client.result is not None and client.result.status == DialogTurnStatus.Complete
    assert isinstance(client.result.result, Activity) and client.result.result.value == 12


def test_an_activity_prompt_needs_a_validator_and_an_id() -> None:
    with pytest.raises(TypeError):
        ActivityPrompt("payment", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ActivityPrompt("", a_payment_event)


def test_find_dialog_is_find() -> None:
    dialogs = DialogSet.inner()
    text = TextPrompt("text")
    dialogs.add(text)
    assert dialogs.find_dialog("text") is text
    assert dialogs.find_dialog("other") is None


async def test_a_dialog_error_says_where_the_dialogs_were() -> None:
    async def begin_a_missing_dialog(prompt: PromptValidatorContext[str]) -> bool:
        raise AssertionError("not reached")

    client = DialogTestClient(
        TextPrompt("name", begin_a_missing_dialog), options=PromptOptions("?")
    )
    await client.send("hi")
    with pytest.raises(AssertionError) as raised:
        await client.send("Ada")
    assert raised.value.data == {  # type: ignore[attr-defined]
        "DialogContext": {"active_dialog": "name", "parent": None, "stack": ["name"]}
    }


async def test_find_is_awaited_as_in_botbuilder() -> None:
    dialogs = DialogSet.inner()
    dialogs.add(TextPrompt("text"))
    assert await dialogs.find("text") is dialogs.find_dialog("text")


async def test_a_component_is_a_dialog_container_with_its_dialogs() -> None:
    component = ComponentDialog("outer")
    inner = TextPrompt("inner")
    component.add_dialog(inner)
    assert isinstance(component, DialogContainer)
    assert component.dialogs.find_dialog("inner") is inner
    assert await component.find_dialog("inner") is inner


async def test_dialog_extensions_run_dialog_begins_then_continues() -> None:
    storage = MemoryStorage()

    async def ask(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("name", PromptOptions("Your name?"))

    async def greet(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog(f"hello {step.result}")

    component = ComponentDialog("greeting")
    component.add_dialog(WaterfallDialog("steps", [ask, greet]))
    component.add_dialog(TextPrompt("name"))

    async def turn(text: str) -> tuple[DialogTurnStatus, Any, list[str | None]]:
        sender = RecordingSender()
        context = TurnContext(sender, Activity.from_dict(message(text)))
        state = ConversationState(storage)
        result = await DialogExtensions.run_dialog(
            component, context, state.create_property("DialogState")
        )
        await state.save_changes(context)
        return result.status, result.result, [a.text for a in sender.sent]

    assert await turn("hi") == (DialogTurnStatus.Waiting, None, ["Your name?"])
    assert await turn("Ada") == (DialogTurnStatus.Complete, "hello Ada", [])


def test_a_set_of_ones_own_needs_its_state_accessor() -> None:
    with pytest.raises(TypeError, match="dialog_state"):
        DialogSet(None)
    with pytest.raises(TypeError):
        DialogSet()
