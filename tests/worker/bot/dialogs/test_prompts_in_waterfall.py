"""Prompts as the steps of a WaterfallDialog: each answer reaches the next step."""

from __future__ import annotations

from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    ChoicePrompt,
    ConfirmPrompt,
    DialogTurnResult,
    DialogTurnStatus,
    FoundChoice,
    ListStyle,
    NumberPrompt,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)


async def name_step(step: WaterfallStepContext) -> DialogTurnResult:
    return await step.prompt("text", PromptOptions(prompt="What's your name?"))


async def age_step(step: WaterfallStepContext) -> DialogTurnResult:
    step.values["name"] = step.result
    return await step.prompt(
        "age",
        PromptOptions(
            prompt=f"How old are you, {step.result}?",
            retry_prompt="Between 0 and 150, please.",
        ),
    )


async def drink_step(step: WaterfallStepContext) -> DialogTurnResult:
    step.values["age"] = step.result
    return await step.prompt(
        "drink",
        PromptOptions("Tea or coffee?", choices=["tea", "coffee"], style=ListStyle.in_line),
    )


async def confirm_step(step: WaterfallStepContext) -> DialogTurnResult:
    found: FoundChoice = step.result
    step.values["drink"] = found.value
    return await step.prompt("confirm", PromptOptions(prompt="Is that right?"))


async def summary_step(step: WaterfallStepContext) -> DialogTurnResult:
    if not step.result:
        await step.context.send_activity("Let's start over.")
        return await step.replace_dialog("profile")
    await step.context.send_activity(
        f"{step.values['name']}, {step.values['age']}, {step.values['drink']}."
    )
    return await step.end_dialog(dict(step.values))


async def plausible_age(prompt_context: PromptValidatorContext[int | float]) -> bool:
    value = prompt_context.recognized.value
    return value is not None and 0 <= value <= 150


def dialogs() -> tuple[WaterfallDialog, TextPrompt, NumberPrompt, ChoicePrompt, ConfirmPrompt]:
    steps = [name_step, age_step, drink_step, confirm_step, summary_step]
    return (
        WaterfallDialog("profile", steps),
        TextPrompt("text"),
        NumberPrompt("age", plausible_age),
        ChoicePrompt("drink"),
        ConfirmPrompt("confirm"),
    )


async def test_a_waterfall_of_prompts_collects_its_answers() -> None:
    client = DialogTestClient(*dialogs())
    replies: list[list[str | None]] = []
    for text in ["hi", "Ada", "two hundred", "36", "coffee please", "yes"]:
        replies.append([a.text for a in await client.send(text)])

    assert replies == [
        ["What's your name?"],
        ["How old are you, Ada?"],
        ["Between 0 and 150, please."],
        ["Tea or coffee? (1) tea or (2) coffee"],
        ["Is that right? (1) Yes or (2) No"],
        ["Ada, 36, coffee."],
    ]
    assert client.result == DialogTurnResult(
        DialogTurnStatus.Complete, {"name": "Ada", "age": 36, "drink": "coffee"}
    )
    assert await client.stack() == []


async def test_the_waterfall_and_its_prompt_are_stored_together() -> None:
    client = DialogTestClient(*dialogs())
    await client.send("hi")
    await client.send("Ada")

    prompt, waterfall = await client.stack()
    assert prompt["id"] == "age"
    assert prompt["state"]["options"]["prompt"]["text"] == "How old are you, Ada?"
    assert waterfall["id"] == "profile"
    assert waterfall["state"]["values"] == {"name": "Ada"}


async def test_answering_no_starts_the_waterfall_over() -> None:
    client = DialogTestClient(*dialogs())
    for text in ["hi", "Ada", "36", "2"]:
        await client.send(text)

    assert [a.text for a in await client.send("no")] == ["Let's start over.", "What's your name?"]
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)
