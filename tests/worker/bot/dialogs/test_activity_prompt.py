"""ActivityPrompt, DialogSet.find_dialog and the context botbuilder attaches to dialog errors."""

from __future__ import annotations

import pytest

from shared.activity import Activity
from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    ActivityPrompt,
    DialogSet,
    DialogTurnStatus,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
)


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
    dialogs = DialogSet()
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
