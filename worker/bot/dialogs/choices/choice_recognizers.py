"""ChoiceRecognizers: which of the offered choices a reply names.

A reply names a choice by its value, its action's title or a synonym (every word of it, in
order, a couple of other words apart at most, case-insensitive: "the red one please" names
"Red"), or else by its position: "2", "two", "2nd", "second".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from worker.bot.dialogs.choices.choice import Choice, FoundChoice, to_choices
from worker.bot.dialogs.choices.numbers import NumberMatch, recognize_number, recognize_ordinal

_TOKEN = re.compile(r"[^\W_]+")  # runs of letters and digits, in any script


@dataclass
class FindChoicesOptions:
    """What `ChoiceRecognizers.recognize_choices` may match on."""

    no_value: bool = False
    """Do not match a choice's value."""
    no_action: bool = False
    """Do not match the title of a choice's action."""
    recognize_numbers: bool = True
    """Accept the choice's number: "2", "two"."""
    recognize_ordinals: bool = True
    """Accept the choice's ordinal: "2nd", "second"."""
    max_token_distance: int = 2
    """How many other words may stand between the words of a multi-word value."""
    locale: str | None = None
    """For the number separators (see `numbers.recognize_number`)."""


@dataclass
class ModelResult:
    """A choice found in an utterance: `text` at `start`..`end` (inclusive, as in the SDK)."""

    text: str
    start: int
    end: int
    type_name: str
    resolution: FoundChoice


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class _Candidate:
    choice: int
    synonym: str
    first: int  # token positions in the utterance, inclusive
    last: int
    score: float
    length: int


class ChoiceRecognizers:
    """Recognizers of the choice a user picked."""

    @staticmethod
    def recognize_choices(
        utterance: str | None,
        choices: Sequence[Choice | str],
        options: FindChoicesOptions | None = None,
    ) -> list[ModelResult]:
        """The choices named in `utterance`, in the order they appear.

        Text is tried first; numbers and ordinals only when no choice is named in words, so
        "the third one" or "2 blue" is never read both ways.
        """
        opts = options or FindChoicesOptions()
        items = to_choices(choices)
        found = find_choices(utterance, items, opts)
        if found or not utterance:
            return found
        positions: list[NumberMatch] = []
        if opts.recognize_ordinals:
            positions = recognize_ordinal(utterance)
        if not positions and opts.recognize_numbers:
            positions = recognize_number(utterance, opts.locale)
        seen: set[int] = set()
        for match in positions:
            index = int(match.value) - 1
            if match.value == index + 1 and 0 <= index < len(items) and index not in seen:
                seen.add(index)
                resolution = FoundChoice(items[index].value, index, 1.0)
                end = match.end - 1
                found.append(ModelResult(match.text, match.start, end, "choice", resolution))
        return found


def find_choices(
    utterance: str | None,
    choices: Sequence[Choice | str],
    options: FindChoicesOptions | None = None,
) -> list[ModelResult]:
    """The choices named in words in `utterance`, in order of appearance; each at most once.

    Where two candidates overlap, the better match wins: all words adjacent beats words
    spread apart, then more words ("dark red" over "red"), then the earlier choice.
    """
    opts = options or FindChoicesOptions()
    tokens = _tokenize(utterance or "")
    if not tokens:
        return []
    candidates = [
        candidate
        for index, choice in enumerate(to_choices(choices))
        for synonym in _synonyms(choice, opts)
        if (candidate := _locate(tokens, index, synonym, opts.max_token_distance)) is not None
    ]
    candidates.sort(key=lambda c: (-c.score, -c.length, c.first, c.choice))
    taken: list[_Candidate] = []
    for candidate in candidates:
        if all(
            candidate.choice != t.choice and (candidate.last < t.first or candidate.first > t.last)
            for t in taken
        ):
            taken.append(candidate)
    taken.sort(key=lambda c: c.first)
    items = to_choices(choices)
    results = []
    for c in taken:
        start, end = tokens[c.first].start, tokens[c.last].end
        resolution = FoundChoice(items[c.choice].value, c.choice, c.score, c.synonym)
        results.append(
            ModelResult((utterance or "")[start:end], start, end - 1, "choice", resolution)
        )
    return results


def _tokenize(text: str) -> list[_Token]:
    return [_Token(m.group().casefold(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _synonyms(choice: Choice, opts: FindChoicesOptions) -> list[str]:
    synonyms = [] if opts.no_value else [choice.value]
    if not opts.no_action and choice.action is not None and choice.action.title:
        synonyms.append(choice.action.title)
    synonyms.extend(choice.synonyms or ())
    return synonyms


def _locate(
    tokens: list[_Token], choice: int, synonym: str, max_distance: int
) -> _Candidate | None:
    """The best place in the utterance where every word of `synonym` appears in order."""
    words = [t.text for t in _tokenize(synonym)]
    if not words:
        return None
    best: _Candidate | None = None
    for first, token in enumerate(tokens):
        if token.text != words[0]:
            continue
        last = first
        for word in words[1:]:
            window = range(last + 1, min(len(tokens), last + 2 + max_distance))
            last = next((p for p in window if tokens[p].text == word), -1)
            if last < 0:
                break
        if last < 0:
            continue
        # 1.0 when the words are adjacent, less the more other words stand between them.
        score = len(words) / (last - first + 1)
        if best is None or score > best.score:
            best = _Candidate(choice, synonym, first, last, score, len(words))
    return best
