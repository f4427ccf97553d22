"""The core bot sample turn by turn (MemoryStorage), and its keyword recognizer."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from samples.core_bot import create_app
from samples.core_bot.dialogs import CANCEL_TEXT, DEFAULT_TEXT, HELP_TEXT
from samples.core_bot.recognizer import BOOK_FLIGHT, GET_WEATHER, NONE, KeywordRecognizer
from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.middleware import build_chain
from worker.bot.storage import MemoryStorage
from worker.bot.turn_context import TurnContext


class CoreBotChat:
    def __init__(self) -> None:
        self.app = create_app(MemoryStorage())
        self.count = 0

    async def turn(self, **fields: Any) -> list[Activity]:
        self.count += 1
        sender = RecordingSender()
        activity = {**message("", activity_id=str(self.count)), "timestamp": "2026-11-21T08:00:00Z"}
        context = TurnContext(sender, Activity.from_dict({**activity, **fields}))
        await build_chain(self.app.middleware, self.app.bot.on_turn)(context)
        return sender.sent

    async def say(self, text: str) -> list[str | None]:
        return [a.text for a in await self.turn(text=text)]


async def test_members_other_than_the_bot_get_the_welcome_card() -> None:
    sent = await CoreBotChat().turn(
        type="conversationUpdate", membersAdded=[{"id": "bot-1"}, {"id": "user-1"}]
    )
    (card,) = sent
    assert card.attachments is not None
    assert card.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert card.attachments[0].content["body"][0]["text"] == "Welcome to the core bot"


@pytest.mark.parametrize("word", ["help", "?", "HELP "])
async def test_help_words(word: str) -> None:
    chat = CoreBotChat()
    await chat.say("hi")
    assert await chat.say("book a flight") == ["Where would you like to travel to?"]
    assert await chat.say(word) == [HELP_TEXT]
    assert await chat.say("Berlin") == ["From what city will you be travelling?"]


@pytest.mark.parametrize("word", ["cancel", "quit"])
async def test_cancel_words(word: str) -> None:
    chat = CoreBotChat()
    await chat.say("hi")
    await chat.say("book a flight")
    assert await chat.say(word) == [CANCEL_TEXT, "What else can I do for you?"]


async def test_what_the_bot_does_not_understand_gets_a_useful_answer() -> None:
    chat = CoreBotChat()
    await chat.say("hi")
    assert await chat.say("sing me a song") == [DEFAULT_TEXT, "What else can I do for you?"]
    assert await chat.say("what's the weather in Oslo") == [
        "I can't check the weather yet.",
        "What else can I do for you?",
    ]
    assert "book flights" in DEFAULT_TEXT


NOW = datetime.datetime(2026, 11, 21, 8, 0)


@pytest.mark.parametrize(
    ("text", "intent", "origin", "destination", "date"),
    [
        (
            "book a flight from Paris to Berlin tomorrow",
            BOOK_FLIGHT,
            "Paris",
            "Berlin",
            "2026-11-22",
        ),
        ("I want to fly to New York", BOOK_FLIGHT, None, "New York", None),
        (
            "I'd like to travel to Rome from Madrid on December 24th",
            BOOK_FLIGHT,
            "Madrid",
            "Rome",
            "2026-12-24",
        ),
        ("book a flight", BOOK_FLIGHT, None, None, None),
        ("weather forecast please", GET_WEATHER, None, None, None),
        ("hello", NONE, None, None, None),
        ("", NONE, None, None, None),
    ],
)
def test_keyword_recognizer(
    text: str, intent: str, origin: str | None, destination: str | None, date: str | None
) -> None:
    result = KeywordRecognizer().recognize(text, NOW)
    assert (result.intent, result.origin, result.destination, result.travel_date) == (
        intent,
        origin,
        destination,
        date,
    )
