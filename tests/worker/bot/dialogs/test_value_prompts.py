"""TextPrompt, NumberPrompt and AttachmentPrompt: what each accepts."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schema.activity import Attachment
from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    AttachmentPrompt,
    DialogTurnResult,
    DialogTurnStatus,
    NumberPrompt,
    PromptOptions,
    TextPrompt,
)
from worker.bot.dialogs.choices import recognize_number, recognize_ordinal


async def answer(client: DialogTestClient, reply: str | dict[str, Any]) -> Any:
    """Begin the prompt, send `reply`, and return the prompt's result (None if still waiting)."""
    await client.send("hi")
    await client.send(reply)
    assert client.result is not None
    if client.result.status == DialogTurnStatus.Waiting:
        return None
    assert client.result.status == DialogTurnStatus.Complete
    return client.result.result


@pytest.mark.parametrize("text", ["Ada", "  Ada Lovelace ", "42", "ñandú 🦤"])
async def test_text_prompt_returns_the_text_as_sent(text: str) -> None:
    client = DialogTestClient(TextPrompt("text"), options=PromptOptions("Name?"))
    assert await answer(client, text) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("3.5", 3.5),
        ("-7", -7),
        ("1,000", 1000),
        ("1,234,567.25", 1234567.25),
        ("twelve", 12),
        ("twenty one", 21),
        ("Twenty-One", 21),
        ("a hundred and five", 105),
        ("minus three", -3),
        ("5 thousand", 5000),
        ("I'd like 3 please", 3),
        ("three or 4", 3),
        # Fractions and dozens: never the whole part alone (a silently wrong number).
        ("two and a half", 2.5),
        ("minus five and three quarters", -5.75),
        ("one and a half thousand", 1500),
        ("a dozen", 12),
        ("three dozen eggs", 36),
        ("half a dozen", 6),
    ],
)
async def test_number_prompt_reads_digits_and_words(text: str, number: float) -> None:
    client = DialogTestClient(NumberPrompt("number"), options=PromptOptions("How many?"))
    value = await answer(client, text)
    assert value == number
    assert type(value) is type(number)


@pytest.mark.parametrize("text", ["lots", "1,5", "v1.2.3", "3rd", "none", "someone"])
async def test_number_prompt_does_not_guess(text: str) -> None:
    client = DialogTestClient(NumberPrompt("number"), options=PromptOptions("How many?"))
    assert await answer(client, text) is None


async def test_number_separators_follow_the_activity_locale_then_the_default() -> None:
    german = DialogTestClient(NumberPrompt("n"), options=PromptOptions("Wie viele?"))
    assert await answer(german, {"type": "message", "text": "1.000,5", "locale": "de-DE"}) == 1000.5

    default = DialogTestClient(
        NumberPrompt("n", default_locale="de-DE"), options=PromptOptions("Wie viele?")
    )
    assert await answer(default, {"type": "message", "text": "2,5", "locale": None}) == 2.5


def test_numbers_and_ordinals_are_found_where_they_are() -> None:
    found = recognize_number("one two, then 3 and forty two")
    assert [(m.text, m.value, m.start) for m in found] == [
        ("one", 1, 0),
        ("two", 2, 4),
        ("3", 3, 14),
        ("forty two", 42, 20),
    ]
    assert [(m.text, m.value) for m in recognize_ordinal("the 2nd, no, the third")] == [
        ("2nd", 2),
        ("third", 3),
    ]


async def test_attachment_prompt_returns_the_attachments() -> None:
    client = DialogTestClient(
        AttachmentPrompt("upload"),
        options=PromptOptions("Send a photo.", retry_prompt="A photo, please."),
    )
    await client.send("hi")

    assert [a.text for a in await client.send("here it comes")] == ["A photo, please."]
    photo = {"contentType": "image/png", "contentUrl": "https://example.com/a.png", "name": "a"}
    await client.send({"type": "message", "attachments": [photo, {"contentType": "text/plain"}]})

    assert client.result == DialogTurnResult(
        DialogTurnStatus.Complete,
        [
            Attachment(content_type="image/png", content_url="https://example.com/a.png", name="a"),
            Attachment(content_type="text/plain"),
        ],
    )
