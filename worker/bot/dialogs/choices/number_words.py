"""Numbers and ordinals written in words in languages other than English: Spanish, French,
German, Italian, Dutch and Portuguese read by text2num (decision 0017), Chinese and Japanese
numerals ("二十二", "第三") read here. English words are read in `numbers`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import find_numbers  # type: ignore[import-untyped, unused-ignore]

from worker.bot.dialogs.choices.tokenizer import Token, Tokenizer

TEXT2NUM_LANGUAGES = frozenset({"es", "fr", "de", "it", "nl", "pt"})
CJK_LANGUAGES = frozenset({"zh", "ja"})

# Ordinals text2num leaves alone because they are also ordinary words ("segundo" is also a
# second of time): in a reply to "which one?", they are the ordinal.
_AMBIGUOUS_ORDINALS = {
    "es": {"segundo": 2, "segunda": 2},
    "pt": {"segundo": 2, "segunda": 2},
    "it": {"secondo": 2, "seconda": 2},
    "fr": {"second": 2, "seconde": 2},
}

_CJK_DIGITS = {  # "\u3007" is the ideographic zero
    "零": 0, "\u3007": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CJK_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_CJK_LARGE_UNITS = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CJK_NUMERAL = re.compile("[零\u3007一二两兩三四五六七八九十百千万萬亿億]+")
_CJK_ORDINAL = re.compile(r"第\s*(\d+|[零\u3007一二两兩三四五六七八九十百千万萬亿億]+)")


@dataclass(frozen=True)
class WordNumber:
    """A number in words: `text[start:end]` means `value`; `ordinal` for "tercero", "第三"."""

    start: int
    end: int
    value: int | float
    ordinal: bool


def word_numbers(text: str, language: str) -> list[WordNumber]:
    """The numbers and ordinals written in words in `text`, in order, for `language` (a
    two-letter code); none for a language not read here."""
    if language in TEXT2NUM_LANGUAGES:
        return _text2num_numbers(text, language)
    if language in CJK_LANGUAGES:
        return _cjk_numbers(text)
    return []


class _Word:
    """A token as text2num's `find_numbers` reads it."""

    def __init__(self, token: Token) -> None:
        self.token = token

    def text(self) -> str:
        return self.token.text

    def nt_separated(self, previous: _Word) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def _text2num_numbers(text: str, language: str) -> list[WordNumber]:
    tokens = Tokenizer.default_tokenizer(text)
    found: list[WordNumber] = []
    # threshold 0: a lone "dos" is a number too (the reply to "how many?" often is one word).
    for occurrence in find_numbers([_Word(t) for t in tokens], language, 0):
        words = tokens[occurrence.start : occurrence.end]
        if not words or all(w.text.isdigit() for w in words):
            continue  # digits are read by `numbers`, with the locale's separators
        value = float(occurrence.value)
        number = int(value) if value.is_integer() else value
        found.append(WordNumber(words[0].start, words[-1].end + 1, number, occurrence.is_ordinal))
    ambiguous = _AMBIGUOUS_ORDINALS.get(language, {})
    for token in tokens:
        covered = any(n.start <= token.start < n.end for n in found)
        if token.normalized in ambiguous and not covered:
            found.append(WordNumber(token.start, token.end + 1, ambiguous[token.normalized], True))
    return sorted(found, key=lambda n: n.start)


def _cjk_numbers(text: str) -> list[WordNumber]:
    found: list[WordNumber] = []
    ordinal_spans: list[tuple[int, int]] = []
    for match in _CJK_ORDINAL.finditer(text):
        digits = match.group(1)
        value = int(digits) if digits.isdigit() else cjk_numeral_value(digits)
        if value is not None:
            found.append(WordNumber(match.start(), match.end(), value, True))
            ordinal_spans.append((match.start(), match.end()))
    for match in _CJK_NUMERAL.finditer(text):
        inside_ordinal = any(s <= match.start() < e for s, e in ordinal_spans)
        value = cjk_numeral_value(match.group())
        if value is not None and not inside_ordinal:
            found.append(WordNumber(match.start(), match.end(), value, False))
    return sorted(found, key=lambda n: n.start)


def cjk_numeral_value(numeral: str) -> int | None:
    """The value of a Chinese or Japanese numeral: "二十二" 22, "十" 10, "三百零五" 305,
    "一万二千" 12000, "二〇二六" (digit by digit) 2026; None if it is not well formed."""
    if all(c in _CJK_DIGITS for c in numeral):
        value = 0
        for char in numeral:
            value = value * 10 + _CJK_DIGITS[char]
        return value
    total = section = digit = 0
    for char in numeral:
        if char in _CJK_DIGITS:
            digit = _CJK_DIGITS[char]
        elif char in _CJK_SMALL_UNITS:
            section += (digit or 1) * _CJK_SMALL_UNITS[char]
            digit = 0
        elif char in _CJK_LARGE_UNITS:
            total += (section + digit) * _CJK_LARGE_UNITS[char]
            section = digit = 0
        else:
            return None
    return total + section + digit
