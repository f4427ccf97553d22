"""What every prompt does: ask, store plain options, validate, retry, ignore non-messages."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Activity, InputHints
from tests.support.activities import message
from tests.worker.bot.dialogs.harness import DialogTestClient
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.dialogs import (
    AttachmentPrompt,
    ChoicePrompt,
    ComponentDialog,
    ConfirmPrompt,
    DateTimePrompt,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    NumberPrompt,
    Prompt,
    PromptOptions,
    PromptValidatorContext,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from worker.bot.message_factory import MessageFactory
from worker.bot.turn_context import TurnContext


def texts(activities: list[Activity]) -> list[str | None]:
    return [a.text for a in activities]


async def test_a_prompt_asks_waits_and_ends_with_the_answer() -> None:
    client = DialogTestClient(
        lambda: TextPrompt("name"), options=PromptOptions(prompt="What's your name?")
    )

    asked = await client.send("hi")
    assert texts(asked) == ["What's your name?"]
    assert asked[0].input_hint == InputHints.EXPECTING_INPUT
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)

    assert await client.send("Ada") == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, "Ada")
    assert await client.stack() == []


async def test_the_prompt_is_stored_as_plain_data_in_the_portable_shape() -> None:
    options = PromptOptions(
        prompt=MessageFactory.text("How many?"),
        retry_prompt="A number, please.",
        validations={"min": 1, "max": 10},
    )
    client = DialogTestClient(NumberPrompt("count"), options=options)

    await client.send("hi")

    assert await client.stack() == [
        {
            "id": "count",
            "state": {
                "options": {
                    "prompt": {
                        "type": "message",
                        "text": "How many?",
                        "inputHint": "acceptingInput",
                    },
                    "retryPrompt": {
                        "type": "message",
                        "text": "A number, please.",
                        "inputHint": "expectingInput",
                    },
                    "choices": None,
                    "style": None,
                    "validations": {"min": 1, "max": 10},
                    "numberOfAttempts": 0,
                },
                "state": {},
            },
        }
    ]


async def test_an_invalid_reply_gets_the_retry_prompt_then_a_valid_one_ends() -> None:
    options = PromptOptions(prompt="How many?", retry_prompt="A number, please.")
    client = DialogTestClient(NumberPrompt("count"), options=options)
    await client.send("hi")

    assert texts(await client.send("lots")) == ["A number, please."]
    assert texts(await client.send("no idea")) == ["A number, please."]
    assert await client.send("12") == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, 12)


async def test_without_a_retry_prompt_the_prompt_is_asked_again() -> None:
    client = DialogTestClient(NumberPrompt("count"), options=PromptOptions(prompt="How many?"))
    await client.send("hi")

    assert texts(await client.send("lots")) == ["How many?"]


async def test_the_validator_sees_attempt_counts_from_one() -> None:
    seen: list[tuple[int, int, Any]] = []

    async def at_least_ten(prompt_context: PromptValidatorContext[int | float]) -> bool:
        seen.append(
            (
                prompt_context.attempt_count,
                prompt_context.options.number_of_attempts,
                prompt_context.recognized.value,
            )
        )
        value = prompt_context.recognized.value
        return prompt_context.recognized.succeeded and value is not None and value >= 10

    options = PromptOptions(prompt="How many?", retry_prompt="At least ten.")
    client = DialogTestClient(lambda: NumberPrompt("count", at_least_ten), options=options)
    await client.send("hi")

    assert texts(await client.send("3")) == ["At least ten."]
    assert texts(await client.send("many")) == ["At least ten."]
    assert texts(await client.send("9")) == ["At least ten."]
    (entry,) = await client.stack()
    assert entry["state"]["state"] == {"AttemptCount": 3}
    assert entry["state"]["options"]["numberOfAttempts"] == 3
    assert await client.send("10") == []

    # botbuilder-python would report attempt_count 0 every time.
    assert seen == [(1, 0, 3), (2, 1, None), (3, 2, 9), (4, 3, 10)]
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, 10)


async def test_a_validator_that_replies_itself_suppresses_the_retry_prompt() -> None:
    async def explain(prompt_context: PromptValidatorContext[str]) -> bool:
        text = prompt_context.recognized.value or ""
        if len(text) < 3:
            await prompt_context.context.send_activity(f"{text!r} is too short.")
            return False
        return True

    options = PromptOptions(prompt="Name?", retry_prompt="Name, please.")
    client = DialogTestClient(TextPrompt("name", explain), options=options)
    await client.send("hi")

    assert texts(await client.send("Al")) == ["'Al' is too short."]
    assert await client.send("Alan") == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, "Alan")


async def test_validations_come_back_from_storage_readable_as_attributes() -> None:
    async def in_range(prompt_context: PromptValidatorContext[int | float]) -> bool:
        limits = prompt_context.options.validations
        value = prompt_context.recognized.value
        return value is not None and bool(limits.min <= value <= limits.max)

    options = PromptOptions(prompt="1 to 5?", validations={"min": 1, "max": 5})
    client = DialogTestClient(NumberPrompt("n", in_range), options=options)
    await client.send("hi")

    assert texts(await client.send("7")) == ["1 to 5?"]
    await client.send("5")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, 5)


@pytest.mark.parametrize(
    "activity",
    [
        {"type": "event", "name": "weather", "value": {"x": 1}},
        {"type": "typing"},
        {"type": "conversationUpdate", "membersAdded": [{"id": "user-1"}]},
    ],
)
async def test_activities_that_are_not_messages_are_ignored(activity: dict[str, Any]) -> None:
    client = DialogTestClient(TextPrompt("name"), options=PromptOptions(prompt="Name?"))
    await client.send("hi")

    assert await client.send(activity) == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)
    (entry,) = await client.stack()
    assert entry["state"]["state"] == {}  # not counted as an attempt
    await client.send("Ada")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, "Ada")


ALL_PROMPTS = [
    TextPrompt("p"),
    NumberPrompt("p"),
    ConfirmPrompt("p"),
    ChoicePrompt("p"),
    DateTimePrompt("p"),
    AttachmentPrompt("p"),
]


def first_line(activity: Activity) -> str | None:
    """The prompt's own text, without the choices a choice or confirm prompt adds."""
    return activity.text.split(" (1)")[0] if activity.text else activity.text


@pytest.mark.parametrize("prompt", ALL_PROMPTS, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize(
    "activity",
    [
        {"type": "message"},
        {"type": "message", "text": ""},
        {"type": "message", "text": "   "},
        {"type": "message", "text": None, "value": {"submitted": True}},
        {"type": None, "text": "hello?"},
    ],
)
async def test_odd_messages_are_asked_again_not_crashed_on(
    prompt: Prompt[Any], activity: dict[str, Any]
) -> None:
    options = PromptOptions(prompt="Well?", retry_prompt="Again?", choices=["a", "b"])
    client = DialogTestClient(prompt, options=options)
    await client.send("hi")

    replies = await client.send(activity)

    if activity["type"] is None:  # not a message: ignored
        assert replies == []
    else:
        assert [first_line(r) for r in replies] == ["Again?"]
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)


@pytest.mark.parametrize("prompt", ALL_PROMPTS[1:], ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("text", ["\u0000\ufffd🤖", "?!", "x" * 5000, "ñ"])
async def test_text_a_prompt_cannot_read_is_asked_again(prompt: Prompt[Any], text: str) -> None:
    options = PromptOptions(prompt="Well?", retry_prompt="Again?", choices=["a", "b"])
    client = DialogTestClient(prompt, options=options)
    await client.send("hi")

    assert [first_line(r) for r in await client.send(text)] == ["Again?"]


async def test_a_prompt_needs_options() -> None:
    client = DialogTestClient(TextPrompt("name"))
    with pytest.raises(TypeError, match="PromptOptions"):
        await client.send("hi")


async def test_the_callers_prompt_activity_is_not_modified() -> None:
    prompt = Activity(type="message", text="Name?")
    client = DialogTestClient(TextPrompt("name"), options=PromptOptions(prompt=prompt))

    (asked,) = await client.send("hi")

    assert asked.input_hint == InputHints.EXPECTING_INPUT  # the SDK's default for a prompt
    assert prompt.input_hint is None


class HelpfulDialog(ComponentDialog):
    """Answers "help" at any point, then asks the current question again."""

    def __init__(self) -> None:
        super().__init__("helpful")
        self.add_dialog(WaterfallDialog("steps", [self.ask, self.finish]))
        self.add_dialog(NumberPrompt("number"))

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        if inner_dc.context.activity.text == "help":
            await inner_dc.context.send_activity("Any whole number will do.")
            await inner_dc.reprompt_dialog()
            return DialogTurnResult(DialogTurnStatus.Waiting)
        return await super().on_continue_dialog(inner_dc)

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt("number", PromptOptions("Pick a number.", "A number!"))

    async def finish(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.end_dialog(step.result)


async def test_reprompt_asks_the_original_question_not_the_retry() -> None:
    client = DialogTestClient(HelpfulDialog)
    assert texts(await client.send("hi")) == ["Pick a number."]

    assert texts(await client.send("help")) == ["Any whole number will do.", "Pick a number."]
    assert texts(await client.send("what?")) == ["A number!"]
    await client.send("7")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, 7)


@pytest.mark.parametrize(
    "prompt",
    [
        TextPrompt("t"),
        NumberPrompt("n"),
        ConfirmPrompt("c"),
        ChoicePrompt("ch"),
        DateTimePrompt("d"),
    ],
)
async def test_hooks_called_without_a_turn_or_options_raise_type_error(prompt: Any) -> None:
    with pytest.raises(TypeError):
        await prompt.on_recognize(None, {}, PromptOptions())
    with pytest.raises(TypeError):
        await prompt.on_prompt(None, {}, PromptOptions(), False)
    context = TurnContext(RecordingSender(), Activity.from_dict(message("hi")))
    with pytest.raises(TypeError):
        await prompt.on_prompt(context, {}, None, False)
