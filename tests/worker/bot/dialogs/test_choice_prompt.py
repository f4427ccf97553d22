"""ChoicePrompt: what a reply may name, and each list style's rendering."""

from __future__ import annotations

import pytest

from shared.schema.activity import ActionTypes, Activity, CardAction
from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.card_factory import ContentTypes
from worker.bot.dialogs import (
    Choice,
    ChoiceFactoryOptions,
    ChoicePrompt,
    DialogTurnResult,
    DialogTurnStatus,
    FoundChoice,
    ListStyle,
    PromptOptions,
)

COLORS = [
    Choice("red", synonyms=["crimson", "scarlet"]),
    Choice("green"),
    Choice("dark blue", synonyms=["navy"]),
]


def colors(style: ListStyle | None = None, retry: str | None = None) -> PromptOptions:
    return PromptOptions("Pick a color", retry_prompt=retry, choices=COLORS, style=style)


def buttons(activity: Activity) -> list[tuple[str | None, str | None, object]]:
    assert activity.suggested_actions is not None and activity.suggested_actions.actions
    return [(a.type, a.title, a.value) for a in activity.suggested_actions.actions]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("red", FoundChoice("red", 0, 1.0, "red")),
        ("GREEN", FoundChoice("green", 1, 1.0, "green")),
        ("the dark blue one please", FoundChoice("dark blue", 2, 1.0, "dark blue")),
        ("Scarlet", FoundChoice("red", 0, 1.0, "scarlet")),
        ("navy", FoundChoice("dark blue", 2, 1.0, "navy")),
        ("2", FoundChoice("green", 1, 1.0)),
        ("three", FoundChoice("dark blue", 2, 1.0)),
        ("second", FoundChoice("green", 1, 1.0)),
        ("the 1st", FoundChoice("red", 0, 1.0)),
        ("dark, very blue", FoundChoice("dark blue", 2, 2 / 3, "dark blue")),
    ],
)
async def test_a_choice_is_named_by_value_synonym_number_or_ordinal(
    text: str, found: FoundChoice
) -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors())
    await client.send("hi")

    assert await client.send(text) == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, found)


@pytest.mark.parametrize("text", ["purple", "4", "0", "fifth", "blue-ish dark", "reddish"])
async def test_anything_else_gets_the_retry_prompt_with_the_choices(text: str) -> None:
    client = DialogTestClient(
        ChoicePrompt("color"), options=colors(ListStyle.in_line, "Not a color I have.")
    )
    await client.send("hi")

    (retry,) = await client.send(text)
    assert retry.text == "Not a color I have. (1) red, (2) green, or (3) dark blue"
    assert client.result == DialogTurnResult(DialogTurnStatus.Waiting)


async def test_in_line() -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors(ListStyle.in_line))
    (asked,) = await client.send("hi")
    assert asked.text == "Pick a color (1) red, (2) green, or (3) dark blue"
    assert asked.suggested_actions is None


async def test_list() -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors(ListStyle.list))
    (asked,) = await client.send("hi")
    assert asked.text == "Pick a color\n\n   1. red\n   2. green\n   3. dark blue"


async def test_suggested_action() -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors(ListStyle.suggested_action))
    (asked,) = await client.send("hi")
    assert asked.text == "Pick a color"
    assert buttons(asked) == [
        ("imBack", "red", "red"),
        ("imBack", "green", "green"),
        ("imBack", "dark blue", "dark blue"),
    ]


async def test_hero_card() -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors(ListStyle.hero_card))
    (asked,) = await client.send("hi")
    assert asked.text is None
    assert asked.attachments is not None
    (card,) = [a.to_dict() for a in asked.attachments]
    assert card["contentType"] == ContentTypes.HERO_CARD
    assert card["content"]["text"] == "Pick a color"
    assert [b["title"] for b in card["content"]["buttons"]] == ["red", "green", "dark blue"]


async def test_none() -> None:
    client = DialogTestClient(ChoicePrompt("color"), options=colors(ListStyle.none))
    (asked,) = await client.send("hi")
    assert (asked.text, asked.suggested_actions, asked.attachments) == ("Pick a color", None, None)
    await client.send("green")
    assert client.result == DialogTurnResult(
        DialogTurnStatus.Complete, FoundChoice("green", 1, 1.0, "green")
    )


@pytest.mark.parametrize(
    ("channel", "choices", "shown"),
    [
        ("test", ["a", "b", "c"], "inline"),
        ("test", ["a", "b", "c", "d"], "list"),
        ("webchat", ["a", "b", "c", "d"], "suggested"),
        ("msteams", ["a", "b", "c"], "hero"),
        ("msteams", ["a", "b", "c", "d"], "list"),
        ("webchat", ["a", "a choice with a rather long title"], "list"),
    ],
)
async def test_auto_picks_what_the_channel_shows(
    channel: str, choices: list[str], shown: str
) -> None:
    options = PromptOptions("Pick", choices=choices)
    client = DialogTestClient(ChoicePrompt("pick"), options=options, channel=channel)
    (asked,) = await client.send("hi")
    kind = (
        "hero"
        if asked.attachments
        else "suggested"
        if asked.suggested_actions
        else "list"
        if asked.text and "\n" in asked.text
        else "inline"
    )
    assert kind == shown


async def test_the_options_style_beats_the_prompts_style() -> None:
    prompt = ChoicePrompt("color")
    prompt.style = ListStyle.hero_card
    client = DialogTestClient(prompt, options=colors(ListStyle.list))
    (asked,) = await client.send("hi")
    assert asked.attachments is None and asked.text and asked.text.startswith("Pick a color\n\n")


async def test_a_choice_with_its_own_action_shows_and_matches_its_title() -> None:
    action = CardAction(type=ActionTypes.POST_BACK, title="Large (+$2)", value="size:L")
    options = PromptOptions(
        "Size?", choices=[Choice("small"), Choice("large", action=action)], style=ListStyle.in_line
    )
    client = DialogTestClient(ChoicePrompt("size"), options=options)
    (asked,) = await client.send("hi")
    assert asked.text == "Size? (1) small or (2) Large (+$2)"

    # Both the value and the title match; the title names more words, so it wins.
    await client.send("large +$2")
    assert client.result == DialogTurnResult(
        DialogTurnStatus.Complete, FoundChoice("large", 1, 1.0, "Large (+$2)")
    )


async def test_the_stored_choices_are_plain_data() -> None:
    action = CardAction(type=ActionTypes.IM_BACK, title="Red!", value="red")
    options = PromptOptions(
        "Pick", choices=["blue", Choice("red", action=action)], style=ListStyle.list
    )
    client = DialogTestClient(ChoicePrompt("pick"), options=options)
    await client.send("hi")

    (entry,) = await client.stack()
    assert entry["state"]["options"]["choices"] == [
        {"value": "blue"},
        {"value": "red", "action": {"type": "imBack", "title": "Red!", "value": "red"}},
    ]
    assert entry["state"]["options"]["style"] == ListStyle.list_style.value
    await client.send("red!")
    assert client.result is not None and client.result.result == FoundChoice("red", 1, 1.0, "red")


async def test_choices_may_be_plain_strings_and_there_may_be_none() -> None:
    client = DialogTestClient(ChoicePrompt("pick"), options=PromptOptions("Pick"))
    (asked,) = await client.send("hi")
    assert asked.text == "Pick"  # nothing to choose from: the question alone
    assert [r.text for r in await client.send("1")] == ["Pick"]


async def test_choice_options_per_locale() -> None:
    prompt = ChoicePrompt(
        "color", choice_defaults={"fr-FR": ChoiceFactoryOptions(inline_or=" ou ")}
    )
    options = PromptOptions("Couleur ?", choices=["rouge", "vert"], style=ListStyle.in_line)
    client = DialogTestClient(prompt, options=options)

    (asked,) = await client.send({"type": "message", "text": "salut", "locale": "fr-FR"})
    assert asked.text == "Couleur ? (1) rouge ou (2) vert"
