"""Tokenizer: the words of an utterance, as botbuilder's choice recognizers see them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Token:
    """One word of a text: `text` is at `start`..`end` (both inclusive, as in botbuilder);
    `normalized` is the lower-cased form that matching compares."""

    start: int
    end: int
    text: str
    normalized: str


TokenizerFunction = Callable[[str, "str | None"], list[Token]]
"""A tokenizer: `(text, locale) -> tokens`; `FindValuesOptions.tokenizer` takes one."""


class Tokenizer:
    """Splits text into words for the choice recognizers."""

    @staticmethod
    def default_tokenizer(text: str | None, locale: str | None = None) -> list[Token]:
        """Runs of letters, digits and combining marks in any script are words; spaces and
        punctuation separate them; a symbol (an emoji) is a word of its own. `locale` is
        accepted for a tokenizer's signature and not used: the rule is the same in every
        language."""
        tokens: list[Token] = []
        start: int | None = None
        for index, char in enumerate(text or ""):
            kind = _kind(char)
            if kind == "word":
                if start is None:
                    start = index
                continue
            if start is not None:
                tokens.append(_token(text or "", start, index - 1))
                start = None
            if kind == "symbol":
                tokens.append(_token(text or "", index, index))
        if start is not None:
            tokens.append(_token(text or "", start, len(text or "") - 1))
        return tokens


def _kind(char: str) -> str:
    category = unicodedata.category(char)
    if category[0] in "LNM":
        return "word"
    if category == "So":
        return "symbol"
    return "break"


def _token(text: str, start: int, end: int) -> Token:
    word = text[start : end + 1]
    return Token(start, end, word, word.lower())
