"""A small keyword recognizer standing in for a language-understanding service.

"book a flight from Paris to Berlin tomorrow" -> intent BookFlight, origin Paris, destination
Berlin, travel date tomorrow's ISO date. Swap it for a real NLU client by implementing
`Recognizer.recognize`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from worker.bot.dialogs.prompts.datetime_recognizer import recognize_datetime

BOOK_FLIGHT = "BookFlight"
GET_WEATHER = "GetWeather"
NONE = "None"

_BOOK = re.compile(r"\b(book|fly|flight|travel|trip)\b", re.I)
_WEATHER = re.compile(r"\b(weather|forecast)\b", re.I)
_FROM = re.compile(
    r"\bfrom\s+([a-z][a-z .'-]*?)(?=\s+(?:to|on|in|at|tomorrow|today|next)\b|$)", re.I
)
_INTENT_TO = re.compile(r"\b(want|wants|would like|'d like|need|like|wish|going)\s+to\b", re.I)
_FILLER = re.compile(r"\b(a|an|the|on|please|i|me)\b", re.I)
_TO = re.compile(r"\bto\s+([a-z][a-z .'-]*?)(?=\s+(?:from|on|in|at|tomorrow|today|next)\b|$)", re.I)


@dataclass
class RecognizerResult:
    """The top intent and the entities found (None when absent)."""

    intent: str = NONE
    origin: str | None = None
    destination: str | None = None
    travel_date: str | None = None
    """ISO date (a date-only TIMEX), resolved against the message's time."""
    text: str = ""
    entities: dict[str, str] = field(default_factory=dict)


class Recognizer(Protocol):
    def recognize(self, text: str, now: datetime.datetime | None = None) -> RecognizerResult: ...


class KeywordRecognizer:
    """Understands flight bookings and weather questions from keywords."""

    def recognize(self, text: str, now: datetime.datetime | None = None) -> RecognizerResult:
        text = (text or "").strip()
        if _WEATHER.search(text):
            return RecognizerResult(GET_WEATHER, text=text)
        if not _BOOK.search(text):
            return RecognizerResult(NONE, text=text)
        # "want to fly to X": the first "to" belongs to the verb, not to a place
        cleaned = _INTENT_TO.sub(" ", text)
        origin = _city(_FROM.search(cleaned))
        destination = _city(_last(_TO.finditer(cleaned)))
        rest = _FROM.sub(" ", _TO.sub(" ", cleaned))
        rest = _BOOK.sub(" ", _FILLER.sub(" ", rest))
        return RecognizerResult(
            BOOK_FLIGHT, origin, destination, resolve_date(rest, now), text=text
        )


def resolve_date(phrase: str, now: datetime.datetime | None = None) -> str | None:
    """An ISO date for an English date phrase ("tomorrow", "March 22, 2027"), or None: the
    same recognizer the DateTimePrompt uses."""
    phrase = " ".join(phrase.split())
    if not phrase:
        return None
    reference = now or datetime.datetime.now(datetime.UTC)
    for resolution in recognize_datetime(phrase, reference):
        if resolution.timex and len(resolution.timex) >= 10:
            return resolution.timex[:10]
    return None


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    last = None
    for last in matches:  # noqa: B007 - the loop keeps the last match
        pass
    return last


def _city(match: re.Match[str] | None) -> str | None:
    return match.group(1).strip().title() if match else None
