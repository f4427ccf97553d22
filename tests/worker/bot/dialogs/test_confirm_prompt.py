"""ConfirmPrompt: yes/no words, the choices' numbers, and how the question is shown."""

from __future__ import annotations

import pytest

from shared.schema.activity import ActionTypes, CardAction
from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    Choice,
    ChoiceFactoryOptions,
    ConfirmPrompt,
    DialogTurnResult,
    DialogTurnStatus,
    ListStyle,
    PromptOptions,
)
from worker.bot.dialogs.prompts import recognize_boolean


def confirm(style: ListStyle | None = None) -> ConfirmPrompt:
    prompt = ConfirmPrompt("confirm")
    if style is not None:
        prompt.style = style
    return prompt


YES = ["yes", "Y", "yeah", "Yep!", "sure", "ok", "Okay.", "true", "1", "yes please", "Yes"]
NO = ["no", "N", "nope", "nah", "false", "0", "2", "No thanks", "no, not really"]


@pytest.mark.parametrize(("text", "expected"), [(t, True) for t in YES] + [(t, False) for t in NO])
async def test_yes_and_no_words_and_numbers(text: str, expected: bool) -> None:
    client = DialogTestClient(confirm(), options=PromptOptions("Book it?"))
    await client.send("hi")

    assert await client.send(text) == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, expected)


@pytest.mark.parametrize("text", ["maybe", "yes no", "not sure", "3", "don't know", "yesterday"])
async def test_no_clear_answer_is_asked_again_with_the_choices(text: str) -> None:
    client = DialogTestClient(
        confirm(), options=PromptOptions("Book it?", retry_prompt="Please answer yes or no.")
    )
    await client.send("hi")

    replies = await client.send(text)

    assert [r.text for r in replies] == ["Please answer yes or no. (1) Yes or (2) No"]
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)


def test_recognize_boolean() -> None:
    assert recognize_boolean("Yeah, sure") is True
    assert recognize_boolean("nope") is False
    assert recognize_boolean("yes and no") is None
    assert recognize_boolean("") is None


async def test_by_default_the_choices_are_inline_on_an_unknown_channel() -> None:
    client = DialogTestClient(confirm(), options=PromptOptions("Book it?"))
    (asked,) = await client.send("hi")
    assert asked.text == "Book it? (1) Yes or (2) No"
    assert asked.suggested_actions is None


async def test_auto_uses_suggested_actions_where_the_channel_has_them() -> None:
    client = DialogTestClient(confirm(), options=PromptOptions("Book it?"), channel="webchat")
    (asked,) = await client.send("hi")
    assert asked.text == "Book it?"
    assert asked.suggested_actions is not None
    assert asked.suggested_actions.actions == [
        CardAction(type=ActionTypes.IM_BACK, title="Yes", value="Yes"),
        CardAction(type=ActionTypes.IM_BACK, title="No", value="No"),
    ]


async def test_style_none_shows_the_question_alone() -> None:
    client = DialogTestClient(confirm(ListStyle.none), options=PromptOptions("Book it?"))
    (asked,) = await client.send("hi")
    assert (asked.text, asked.suggested_actions, asked.attachments) == ("Book it?", None, None)


async def test_custom_confirm_choices_are_shown_and_recognized() -> None:
    prompt = ConfirmPrompt("confirm")
    prompt.confirm_choices = (Choice("Book it", synonyms=["go"]), "Cancel")
    prompt.style = ListStyle.list_style
    client = DialogTestClient(prompt, options=PromptOptions("Ready?"))

    (asked,) = await client.send("hi")
    assert asked.text == "Ready?\n\n   1. Book it\n   2. Cancel"

    await client.send("cancel")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, False)
    await client.send("again")
    await client.send("let's go")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, True)


async def test_without_numbers_shown_a_number_is_no_answer() -> None:
    prompt = ConfirmPrompt("confirm")
    prompt.choice_options = ChoiceFactoryOptions(include_numbers=False)
    client = DialogTestClient(prompt, options=PromptOptions("Book it?"))

    (asked,) = await client.send("hi")
    assert asked.text == "Book it? Yes or No"
    await client.send("2")
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)


async def test_choice_defaults_per_locale() -> None:
    french = (Choice("Oui"), Choice("Non"), ChoiceFactoryOptions(inline_or=" ou "))
    english = (Choice("Yes"), Choice("No"), ChoiceFactoryOptions())
    prompt = ConfirmPrompt("confirm", choice_defaults={"fr-FR": french, "en-us": english})
    client = DialogTestClient(prompt, options=PromptOptions("On réserve ?"))

    (asked,) = await client.send({"type": "message", "text": "salut", "locale": "fr-CA"})
    assert asked.text == "On réserve ? (1) Oui ou (2) Non"
    await client.send({"type": "message", "text": "non", "locale": "fr-CA"})
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, False)

    (asked,) = await client.send("hi")  # en-US: the English defaults
    assert asked.text == "On réserve ? (1) Yes or (2) No"
