"""Dates and times in a user's reply, read by `dateparser`, in the SDK's resolution shape."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Literal

# dateparser has no inline types and its stubs are not a dependency: its results are checked
# below; `unused-ignore` keeps mypy quiet should types-dateparser be installed.
from dateparser.date import DateDataParser  # type: ignore[import-untyped, unused-ignore]
from dateparser.search import search_dates  # type: ignore[import-untyped, unused-ignore]

PreferDatesFrom = Literal["future", "past", "current_period"]

# A reply to "when?" is short; dateparser's time grows with the text, and it runs on the event
# loop, so a pasted page is not searched for a date.
MAX_LENGTH = 500

_BARE_NUMBER = re.compile(r"[+-]?\d{1,3}")
# Three letters make a word worth reading; two suffice in Chinese and Japanese ("明天", "明日").
_LETTERS = re.compile(r"[^\W\d_]{3,}|[\u3040-\u30ff\u4e00-\u9fff]{2,}")


@dataclass
class DateTimeResolution:
    """One reading of a date or time, as botbuilder's DateTimePrompt returns it.

    A date: `value` and `timex` are `2026-12-24`. A date and time: `value` is
    `2026-12-24 15:00:00`, `timex` `2026-12-24T15` (`T15:30` with minutes). A month or a year
    ("next month", "2027"): `timex` is `2026-04` or `2027`, `start` and `end` the first day of it
    and of the next one, `value` None.
    """

    value: str | None = None
    start: str | None = None
    end: str | None = None
    timex: str | None = None


def recognize_datetime(
    utterance: str,
    reference: datetime.datetime,
    locale: str | None = None,
    prefer_dates_from: PreferDatesFrom = "future",
) -> list[DateTimeResolution]:
    """The date or time in `utterance` ("tomorrow", "next friday", "in 3 days", "2026-12-24",
    "December 24th at 5pm", "24/12/2026"), or an empty list.

    Relative dates count from `reference`, read as the user's wall-clock time (any time zone
    is dropped, not converted). A date without a year is taken from the future by default
    ("March 1" on 4 March 2026 is 2027-03-01). The locale decides the day/month order of
    `03/04/2026` (April 3rd in en-GB, March 4th in en-US). Text longer than `MAX_LENGTH`
    is not read.
    """
    text = utterance.strip()
    if len(text) > MAX_LENGTH:
        return []
    # dateparser reads "42" as the year 2042 and "a" as a date: not what a user means.
    if not text or _BARE_NUMBER.fullmatch(text) or not (_LETTERS.search(text) or _digits(text)):
        return []
    # "tomorrow at 9": dateparser needs "9:00" to see a time; and, as Recognizers-Text, a bare
    # hour of the morning is read both ways (09 and 21).
    text, bare_hour = _complete_bare_hour(text)
    base = reference.replace(tzinfo=None)
    found = _read(text, locale, base, prefer_dates_from)
    if found is None:
        return []
    moment, period = found
    moment = moment.replace(tzinfo=None)
    if period == "time" and _is_time_only(text, locale, base):
        readings = [_time_of_day(moment)]
        if bare_hour and 0 < moment.hour < 12:
            readings.append(_time_of_day(moment + datetime.timedelta(hours=12)))
        return readings
    readings = [_resolution(moment, period)]
    if period == "time" and bare_hour and 0 < moment.hour < 12:
        readings.append(_resolution(moment + datetime.timedelta(hours=12), period))
    return readings


def _read(
    text: str, locale: str | None, base: datetime.datetime, prefer: PreferDatesFrom
) -> tuple[datetime.datetime, str] | None:
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "RETURN_TIME_AS_PERIOD": True}
    found = _parse(text, locale, settings)
    if found is None:
        # A date inside a sentence ("let's say friday"): find it, then read it alone.
        phrase = _search(text, locale, settings)
        found = _parse(phrase, locale, settings) if phrase else None
    return found


# The word before a clock time, per language: "at 9", "a las 9", "à 9", "um 9", "alle 9",
# "om 9", "às 9".
_BARE_HOUR = re.compile(
    r"\b(at|a las|a la|à|um|alle|all'|om|às)\s+(\d{1,2})"
    r"(?![\d:.,h]|\s*(?:am|pm|a\.m|p\.m|uhr|h\b))",
    re.IGNORECASE,
)


def _complete_bare_hour(text: str) -> tuple[str, bool]:
    """`text` with "at 9" written "at 9:00", and whether it had such a bare hour."""
    completed, count = _BARE_HOUR.subn(
        lambda m: f"{m.group(1)} {m.group(2)}:00" if int(m.group(2)) < 24 else m.group(0), text
    )
    return completed, count > 0 and completed != text


def _is_time_only(text: str, locale: str | None, base: datetime.datetime) -> bool:
    """True if `text` names a time of day and no day ("9am", "at 5:30"): read against two
    reference days five weeks and two days apart, it falls on each reference day itself."""
    for day in (base, base + datetime.timedelta(days=37)):
        found = _read(text, locale, day, "current_period")
        if found is None or found[0].date() != day.date():
            return False
    return True


def _time_of_day(moment: datetime.datetime) -> DateTimeResolution:
    """A time without a day, as Recognizers-Text gives it: timex "T09", value "09:00:00"."""
    time = "%H:%M:%S" if moment.second else "%H:%M" if moment.minute else "%H"
    return DateTimeResolution(value=moment.strftime("%H:%M:%S"), timex=moment.strftime(f"T{time}"))


def _digits(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _attempts(locale: str | None) -> list[dict[str, Any]]:
    """Parser arguments, most specific first: dateparser knows some locales ("en-GB") but not
    others ("de-DE"), and raises only when it parses."""
    parts = (locale or "en").replace("_", "-").split("-")
    language = parts[0].lower()
    attempts: list[dict[str, Any]] = []
    if len(parts) > 1:
        # dateparser spells locales "en-GB" and "zh-Hant-HK"; prompts lower-case them.
        tags = [p.title() if len(p) == 4 else p.upper() for p in parts[1:]]
        attempts.append({"languages": [language], "locales": ["-".join([language, *tags])]})
    attempts.append({"languages": [language]})
    if language != "en":
        attempts.append({"languages": ["en"]})
    return attempts


def _parse(
    text: str, locale: str | None, settings: dict[str, Any]
) -> tuple[datetime.datetime, str] | None:
    for arguments in _attempts(locale):
        try:
            data = DateDataParser(settings=settings, **arguments).get_date_data(text)
        except ValueError:  # an unknown language or locale: try the next, plainer one
            continue
        moment = getattr(data, "date_obj", None)
        if isinstance(moment, datetime.datetime):
            return moment, str(getattr(data, "period", None) or "day")
        return None
    return None


def _search(text: str, locale: str | None, settings: dict[str, Any]) -> str | None:
    for arguments in _attempts(locale):
        languages = arguments["languages"]
        try:
            found = search_dates(text, languages=languages, settings=settings)
        except ValueError:
            continue
        if found and isinstance(found[0][0], str):
            phrase: str = found[0][0]
            return phrase
        return None
    return None


def _resolution(moment: datetime.datetime, period: str) -> DateTimeResolution:
    if period == "time":
        # As Recognizers-Text writes it: a whole hour is "T09", else "T09:30" or "T09:30:15".
        time = "%H:%M:%S" if moment.second else "%H:%M" if moment.minute else "%H"
        return DateTimeResolution(
            value=moment.strftime("%Y-%m-%d %H:%M:%S"), timex=moment.strftime(f"%Y-%m-%dT{time}")
        )
    if period == "month":
        first = moment.date().replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return DateTimeResolution(
            start=first.isoformat(), end=following.isoformat(), timex=first.strftime("%Y-%m")
        )
    if period == "year":
        return DateTimeResolution(
            start=f"{moment.year:04d}-01-01",
            end=f"{moment.year + 1:04d}-01-01",
            timex=f"{moment.year:04d}",
        )
    # A day, or a week-relative day ("in two weeks", "next week"): the date itself.
    day = moment.date().isoformat()
    return DateTimeResolution(value=day, timex=day)
