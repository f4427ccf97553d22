"""DialogManager: one call per turn runs the root dialog and saves the state, through the test
kit's TestAdapter (the worker's turn pipeline)."""

from __future__ import annotations

import pytest

from worker.bot.dialogs import (
    DialogManager,
    DialogManagerResult,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.dialogs.component_dialog import ComponentDialog
from worker.bot.state import ConversationState, UserState
from worker.bot.storage import MemoryStorage
from worker.bot.testing import TestAdapter
from worker.bot.turn_context import TurnContext


def greeting() -> ComponentDialog:
    async def ask(step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("name", PromptOptions("Your name?"))

    async def greet(step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity(f"Hello {step.result}")
        return await step.end_dialog(step.result)

    root = ComponentDialog("greeting")
    root.add_dialog(WaterfallDialog("steps", [ask, greet]))
    root.add_dialog(TextPrompt("name"))
    return root


def adapter_for(manager: DialogManager, results: list[DialogManagerResult]) -> TestAdapter:
    async def logic(context: TurnContext) -> None:
        results.append(await manager.on_turn(context))

    return TestAdapter(logic)


async def test_the_root_dialog_begins_continues_and_begins_again() -> None:
    storage = MemoryStorage()
    manager = DialogManager(greeting())
    manager.conversation_state = ConversationState(storage)
    manager.user_state = UserState(storage)
    results: list[DialogManagerResult] = []
    adapter = adapter_for(manager, results)

    flow = await adapter.send("hi")
    flow = await flow.assert_reply("Your name?")
    flow = await flow.send("Ada")
    flow = await flow.assert_reply("Hello Ada")
    flow = await flow.send("again")
    await flow.assert_reply("Your name?")

    statuses = [r.turn_result.status for r in results if r.turn_result is not None]
    assert statuses == [
        DialogTurnStatus.Waiting,
        DialogTurnStatus.Complete,
        DialogTurnStatus.Waiting,
    ]
    assert results[1].turn_result is not None and results[1].turn_result.result == "Ada"


async def test_a_conversation_idle_past_expire_after_starts_afresh() -> None:
    manager = DialogManager(greeting())
    manager.conversation_state = ConversationState(MemoryStorage())
    manager.expire_after = 0  # every turn comes too late
    adapter = adapter_for(manager, [])

    flow = await adapter.send("hi")
    flow = await flow.assert_reply("Your name?")
    flow = await flow.send("Ada")
    await flow.assert_reply("Your name?")


async def test_the_conversation_state_may_come_from_turn_state() -> None:
    state = ConversationState(MemoryStorage())
    manager = DialogManager(greeting(), dialog_state_property="stack")

    async def logic(context: TurnContext) -> None:
        context.turn_state["ConversationState"] = state
        await manager.on_turn(context)

    flow = await TestAdapter(logic).send("hi")
    await flow.assert_reply("Your name?")
    assert manager.conversation_state is state


async def test_without_a_conversation_state_or_a_root_it_says_so() -> None:
    async def logic(context: TurnContext) -> None:
        await DialogManager(greeting()).on_turn(context)

    with pytest.raises(TypeError, match="ConversationState"):
        await TestAdapter(logic).send("hi")

    async def rootless(context: TurnContext) -> None:
        await DialogManager().on_turn(context)

    with pytest.raises(TypeError, match="root_dialog"):
        await TestAdapter(rootless).send("hi")
