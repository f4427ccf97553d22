"""Numbers and ordinals in a user's reply: "42", "-7", "1,000", "3.5", "twenty one", "2nd".

Digits follow the locale's separators (`1,000.5` in English, `1.000,5` in German and the
other languages listed below). Number words are read in the locale's language: English here,
Spanish, French, German, Italian, Dutch, Portuguese, Chinese and Japanese in `number_words`;
any other language's replies are read as English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from worker.bot.dialogs.choices.number_words import (
    CJK_LANGUAGES,
    TEXT2NUM_LANGUAGES,
    word_numbers,
)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_FRACTIONS = {
    ("and", "a", "half"): 0.5,
    ("and", "one", "half"): 0.5,
    ("and", "a", "quarter"): 0.25,
    ("and", "one", "quarter"): 0.25,
    ("and", "three", "quarters"): 0.75,
}
"""What may follow a whole number written in words: "two and a half" is 2.5, not 2."""
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20,
}  # fmt: skip
_NEGATIVE = frozenset({"minus", "negative"})

# Languages writing a decimal comma and grouping thousands with a dot.
_DECIMAL_COMMA = frozenset(
    {"de", "es", "fr", "it", "nl", "pt", "da", "nb", "no", "sv", "fi", "pl", "tr", "id", "ru"}
)

_WORD = re.compile(r"[A-Za-z]+")
_WORD_GAP = re.compile(r"[\s-]+")  # "twenty-one", "one   hundred"
_DIGIT_ORDINAL = re.compile(r"(?<![\w.,])(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
# "2º", "2ª" (es, it, pt), "2e", "2ème", "1er", "1re" (fr), "2e", "2de" (nl), "2." (de).
_OTHER_DIGIT_ORDINALS = {
    "es": r"[º°ª]|\.[º°ª]",
    "pt": r"[º°ª]|\.[º°ª]",
    "it": r"[º°ª]",
    "fr": r"(?:e|ème|eme|er|re|nd|nde)\b",
    "nl": r"(?:e|de|ste)\b",
    "de": r"\.(?!\d)",
}
_SCALE_AFTER_DIGITS = re.compile(r"\s+(hundred|thousand|million|billion)\b", re.IGNORECASE)


@dataclass(frozen=True)
class NumberMatch:
    """A number found in a text: `text[start:end]` means `value`."""

    start: int
    end: int
    text: str
    value: int | float


def recognize_number(text: str, locale: str | None = None) -> list[NumberMatch]:
    """The numbers in `text`, in order: digits (`-1,234.5`, `5 thousand`) and words in the
    locale's language (`twenty one`, `a hundred and five`, `minus three`; `veintidós`,
    `二十二`). Digits whose grouping does not fit the locale (`1,5` in English) are not a
    number: better to ask again than to guess."""
    language = _language(locale)
    if language in TEXT2NUM_LANGUAGES or language in CJK_LANGUAGES:
        words = [
            NumberMatch(n.start, n.end, text[n.start : n.end], n.value)
            for n in word_numbers(text, language)
            if not n.ordinal
        ]
    else:
        words = _word_numbers(text)
    digits = _digit_numbers(text, locale)
    # A CJK numeral may stand right next to digits; each character is read once.
    words = [w for w in words if not any(_overlap(w, d) for d in digits)]
    return sorted(digits + words, key=lambda match: match.start)


def recognize_ordinal(text: str, locale: str | None = None) -> list[NumberMatch]:
    """The ordinals in `text`, in order, in the locale's language: `2nd`, `second` (English,
    up to `twentieth`); `2º`, `segundo`, `2ème`, `deuxième`, `2.`, `zweite`, `第二`."""
    language = _language(locale)
    found = [
        NumberMatch(m.start(), m.end(), m.group(), int(m.group(1)))
        for m in _DIGIT_ORDINAL.finditer(text)
    ]
    if language in TEXT2NUM_LANGUAGES or language in CJK_LANGUAGES:
        suffix = _OTHER_DIGIT_ORDINALS.get(language)
        if suffix is not None:
            pattern = re.compile(rf"(?<![\w.,])(\d+)(?:{suffix})", re.IGNORECASE)
            found += [
                NumberMatch(m.start(), m.end(), m.group(), int(m.group(1)))
                for m in pattern.finditer(text)
            ]
        found += [
            NumberMatch(n.start, n.end, text[n.start : n.end], n.value)
            for n in word_numbers(text, language)
            if n.ordinal and not any(f.start <= n.start < f.end for f in found)
        ]
    else:
        found += [
            NumberMatch(m.start(), m.end(), m.group(), _ORDINALS[m.group().lower()])
            for m in _WORD.finditer(text)
            if m.group().lower() in _ORDINALS
        ]
    return sorted(found, key=lambda match: match.start)


def _overlap(a: NumberMatch, b: NumberMatch) -> bool:
    return a.start < b.end and b.start < a.end


def _digit_numbers(text: str, locale: str | None) -> list[NumberMatch]:
    group, decimal = (".", ",") if _language(locale) in _DECIMAL_COMMA else (",", ".")
    found = []
    for m in _digit_pattern(group, decimal).finditer(text):
        digits = m.group().replace("\u2212", "-").replace(group, "").replace(decimal, ".")
        value: int | float = float(digits) if "." in digits else int(digits)
        end = m.end()
        scale = _SCALE_AFTER_DIGITS.match(text, end)
        if scale:
            word = scale.group(1).lower()
            value *= 100 if word == "hundred" else _SCALES[word]
            end = scale.end()
        found.append(NumberMatch(m.start(), end, text[m.start() : end], value))
    return found


@cache
def _digit_pattern(group: str, decimal: str) -> re.Pattern[str]:
    g, d = re.escape(group), re.escape(decimal)
    # Not inside a word or another number ("3rd", "v1.2.3", "1,5" in English).
    return re.compile(
        rf"(?<![\w.,])[-+\u2212]?(?:\d{{1,3}}(?:{g}\d{{3}})+|\d+)(?:{d}\d+)?(?!\w|[.,]\d)"
    )


def _language(locale: str | None) -> str:
    return (locale or "en").replace("_", "-").split("-")[0].lower()


def _word_numbers(text: str) -> list[NumberMatch]:
    words = [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    found: list[NumberMatch] = []
    index = 0
    while index < len(words):
        parsed = _WordNumber(text, words).parse(index)
        if parsed is None:
            index += 1
            continue
        value, after = parsed
        start, end = words[index][1], words[after - 1][2]
        if index and words[index - 1][0] == "half" and words[index][0] == "a":
            gap = text[words[index - 1][2] : words[index][1]]
            if _WORD_GAP.fullmatch(gap):  # "half a dozen", "half a million"
                value, start = _whole_if_whole(value / 2), words[index - 1][1]
        found.append(NumberMatch(start, end, text[start:end], value))
        index = after
    return found


def _whole_if_whole(number: float) -> int | float:
    """1500.0 as 1500: a whole number read from words is an int, as its digits would be."""
    return int(number) if float(number).is_integer() else number


def _kind(word: str) -> str | None:
    if word == "zero":
        return "zero"
    if word in _UNITS:
        return "unit" if _UNITS[word] < 10 else "teen"
    if word in _TENS:
        return "tens"
    if word == "hundred":
        return "hundred"
    if word == "dozen":
        return "dozen"
    if word in _SCALES:
        return "scale"
    if word in ("and", "a"):
        return word
    return None


# Which word may follow which inside one number: "twenty one" is one number, "one two" two.
_FOLLOWS: dict[str | None, frozenset[str]] = {
    None: frozenset({"zero", "unit", "teen", "tens", "a", "dozen"}),
    "zero": frozenset(),
    "unit": frozenset({"hundred", "scale", "dozen"}),
    "teen": frozenset({"hundred", "scale", "dozen"}),
    "tens": frozenset({"unit", "scale", "dozen"}),
    "dozen": frozenset(),
    "hundred": frozenset({"unit", "teen", "tens", "scale", "and"}),
    "scale": frozenset({"unit", "teen", "tens", "and"}),
    "and": frozenset({"unit", "teen", "tens"}),
    "a": frozenset({"hundred", "scale", "dozen"}),
}


class _Accumulator:
    """The value of number words read so far: "five hundred thousand and two"."""

    def __init__(self) -> None:
        self.done = 0  # the thousands, millions, … already closed
        self.current = 0  # below the last scale word
        self.smallest_scale: int | None = None

    def add(self, kind: str, word: str) -> bool:
        """Add one word; False if it cannot be part of this number."""
        if kind == "scale":
            scale = _SCALES[word]
            # "two thousand five million" is two numbers: scales only go down.
            if self.smallest_scale is not None and scale >= self.smallest_scale:
                return False
            self.smallest_scale = scale
            self.done += (self.current or 1) * scale
            self.current = 0
        elif kind == "hundred":
            self.current = (self.current or 1) * 100
        elif kind == "dozen":
            self.current = (self.current or 1) * 12
        elif kind == "tens":
            self.current += _TENS[word]
        elif kind in ("zero", "unit", "teen"):
            self.current += _UNITS[word]
        return True

    def total(self) -> int:
        return self.done + self.current


class _WordNumber:
    """Reads one number written in words, starting at a given word."""

    def __init__(self, text: str, words: list[tuple[str, int, int]]) -> None:
        self.text = text
        self.words = words

    def parse(self, index: int) -> tuple[int | float, int] | None:
        """(value, index after its last word), or None if no number starts at `index`."""
        sign = 1
        if self.words[index][0] in _NEGATIVE and self._joined(index + 1):
            sign, index = -1, index + 1
        value = _Accumulator()
        last: str | None = None
        end = position = index
        while position < len(self.words):
            word = self.words[position][0]
            kind = _kind(word)
            if kind is None or kind not in _FOLLOWS[last]:
                break
            if (position > index and not self._joined(position)) or not value.add(kind, word):
                break
            last = kind
            position += 1
            if kind not in ("and", "a"):  # a trailing "and" or "a" is not part of the number
                end = position
        if end == index:
            return None
        fraction, end = self._fraction(end)
        number: int | float = value.total() + fraction
        if fraction and end < len(self.words) and self._joined(end):
            word = self.words[end][0]  # "one and a half thousand", "two and a half dozen"
            if word in _SCALES or word in ("hundred", "dozen"):
                number *= _SCALES.get(word) or (100 if word == "hundred" else 12)
                end += 1
        return sign * _whole_if_whole(number), end

    def _fraction(self, after: int) -> tuple[float, int]:
        """ "and a half" (a quarter, three quarters) right after a whole number: its value and
        where the number now ends; (0, `after`) when none follows."""
        for words, value in _FRACTIONS.items():
            following = self.words[after : after + len(words)]
            if tuple(w[0] for w in following) == words and all(
                self._joined(after + i) for i in range(len(words))
            ):
                return value, after + len(words)
        return 0, after

    def _joined(self, position: int) -> bool:
        """True if only spaces or a hyphen separate word `position` from the one before."""
        if position >= len(self.words):
            return False
        gap = self.text[self.words[position - 1][2] : self.words[position][1]]
        return _WORD_GAP.fullmatch(gap) is not None
