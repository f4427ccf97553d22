"""DateTimePrompt: absolute and relative dates, counted from the activity's time."""

from __future__ import annotations

import datetime

import pytest

from tests.worker.bot.dialogs.harness import DialogTestClient
from worker.bot.dialogs import (
    DateTimePrompt,
    DateTimeResolution,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
)
from worker.bot.dialogs.prompts import recognize_datetime

# Wednesday 4 March 2026, 10:30 on the user's clock.
LOCAL_NOW = {"localTimestamp": "2026-03-04T10:30:00-05:00", "timestamp": "2026-03-04T15:30:00Z"}


def date(day: str) -> list[DateTimeResolution]:
    return [DateTimeResolution(value=day, timex=day)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date("2026-03-04")),
        ("tomorrow", date("2026-03-05")),
        ("yesterday", date("2026-03-03")),
        ("in 3 days", date("2026-03-07")),
        ("next friday", date("2026-03-06")),
        ("friday", date("2026-03-06")),
        ("in two weeks", date("2026-03-18")),
        ("2026-12-24", date("2026-12-24")),
        ("December 24th", date("2026-12-24")),
        ("24/12/2026", date("2026-12-24")),
        ("march 1", date("2027-03-01")),  # no year: the next one
        ("let's say friday", date("2026-03-06")),
        ("how about December 24th?", date("2026-12-24")),
        (
            "tomorrow at 3pm",
            [DateTimeResolution(value="2026-03-05 15:00:00", timex="2026-03-05T15")],
        ),
        (
            "December 24th at 5:30:15 pm",
            [DateTimeResolution(value="2026-12-24 17:30:15", timex="2026-12-24T17:30:15")],
        ),
        (
            "next month",
            [DateTimeResolution(start="2026-04-01", end="2026-05-01", timex="2026-04")],
        ),
        ("2027", [DateTimeResolution(start="2027-01-01", end="2028-01-01", timex="2027")]),
    ],
)
async def test_dates_are_resolved_from_the_users_clock(
    text: str, expected: list[DateTimeResolution]
) -> None:
    client = DialogTestClient(
        DateTimePrompt("when"), options=PromptOptions("When?"), activity_defaults=LOCAL_NOW
    )
    await client.send("hi")

    assert await client.send(text) == []
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, expected)


@pytest.mark.parametrize("text", ["hello", "42", "a", "yes", "-", "🤷"])
async def test_no_date_gets_the_retry_prompt(text: str) -> None:
    client = DialogTestClient(
        DateTimePrompt("when"),
        options=PromptOptions("When?", retry_prompt="Which day?"),
        activity_defaults=LOCAL_NOW,
    )
    await client.send("hi")

    assert [a.text for a in await client.send(text)] == ["Which day?"]


async def test_the_utc_timestamp_counts_when_there_is_no_local_one() -> None:
    # 23:30 UTC on the 4th: "tomorrow" is the 5th in UTC.
    client = DialogTestClient(
        DateTimePrompt("when"),
        options=PromptOptions("When?"),
        activity_defaults={"timestamp": "2026-03-04T23:30:00.1234567Z"},
    )
    await client.send("hi")
    await client.send("tomorrow")
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, date("2026-03-05"))


@pytest.mark.parametrize(("locale", "day"), [("en-US", "2026-03-04"), ("en-GB", "2026-04-03")])
async def test_the_locale_decides_day_and_month_order(locale: str, day: str) -> None:
    client = DialogTestClient(
        DateTimePrompt("when"), options=PromptOptions("When?"), activity_defaults=LOCAL_NOW
    )
    await client.send("hi")
    await client.send({"type": "message", "text": "03/04/2026", "locale": locale})
    assert client.result == DialogTurnResult(DialogTurnStatus.Complete, date(day))


def test_recognize_datetime_takes_a_reference_time() -> None:
    reference = datetime.datetime(2030, 1, 31, 8, 0, tzinfo=datetime.UTC)
    assert recognize_datetime("tomorrow", reference) == date("2030-02-01")
    assert recognize_datetime("march 1", reference, prefer_dates_from="past") == date("2029-03-01")
    assert recognize_datetime("morgen", reference, "de-DE") == date("2030-02-01")
    assert recognize_datetime("tomorrow", reference, "xx-YY") == date("2030-02-01")
    assert recognize_datetime("", reference) == []
    assert recognize_datetime("x " * 300 + "tomorrow", reference) == []  # too long to be a date


def at(*readings: str) -> list[DateTimeResolution]:
    return [
        DateTimeResolution(
            value=f"{r[:10]} {r[11:13]}:00:00" if "-" in r else f"{r[1:3]}:00:00", timex=r
        )
        for r in readings
    ]


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        # A time without a day is a time of day, as Recognizers-Text gives it.
        ("9am", "en-us", at("T09")),
        ("at 9pm", "en-us", at("T21")),
        ("at 17", "en-us", at("T17")),
        # A bare hour is read in the morning and in the evening.
        ("tomorrow at 9", "en-us", at("2026-03-05T09", "2026-03-05T21")),
        ("at 9", "en-us", at("T09", "T21")),
        ("mañana a las 9", "es-es", at("2026-03-05T09", "2026-03-05T21")),
        ("morgen um 9", "de-de", at("2026-03-05T09", "2026-03-05T21")),
        ("demain à 9", "fr-fr", at("2026-03-05T09", "2026-03-05T21")),
        ("domani alle 9", "it-it", at("2026-03-05T09", "2026-03-05T21")),
        ("morgen om 9", "nl-nl", at("2026-03-05T09", "2026-03-05T21")),
        ("amanhã às 9", "pt-br", at("2026-03-05T09", "2026-03-05T21")),
        ("tomorrow at 9am", "en-us", at("2026-03-05T09")),
        ("tomorrow at 12", "en-us", at("2026-03-05T12")),
    ],
)
def test_times_of_day_and_bare_hours(
    text: str, locale: str, expected: list[DateTimeResolution]
) -> None:
    reference = datetime.datetime(2026, 3, 4, 10, 30)
    assert recognize_datetime(text, reference, locale) == expected


def test_a_time_with_minutes_keeps_them() -> None:
    reference = datetime.datetime(2026, 3, 4, 10, 30)
    assert recognize_datetime("9:30", reference) == [
        DateTimeResolution(value="09:30:00", timex="T09:30")
    ]
