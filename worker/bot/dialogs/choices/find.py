"""Find: which of a list of values (or choices) an utterance names, in words.

A value is named when its words appear in the utterance in order, a few other words apart at
most ("the red one please" names "red"; "bread and pudding" names "bread pudding" less well
than "bread pudding" does). Where two matches overlap the better one wins, and each value is
found at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from worker.bot.dialogs.choices.choice import Choice, FoundChoice, to_choices
from worker.bot.dialogs.choices.tokenizer import Token, Tokenizer, TokenizerFunction

Resolution = TypeVar("Resolution")


@dataclass
class SortedValue:
    """A value to look for, and the index reported when it is found (synonyms of one choice
    share the choice's index)."""

    value: str
    index: int


@dataclass
class FoundValue:
    """A value found: which one, at what index, and how well it matched (1.0 when all its
    words stand together)."""

    value: str
    index: int
    score: float


@dataclass
class ModelResult(Generic[Resolution]):
    """What was found at `text`, `start`..`end` (inclusive, as in botbuilder), of the kind
    `type_name` ("value", "choice"), with its `resolution`."""

    text: str
    start: int
    end: int
    type_name: str
    resolution: Resolution


class FindValuesOptions:
    """How `Find.find_values` matches: `allow_partial_matches` accepts a value of which only
    some words appear ("option" for "option B", at a lower score); `max_token_distance` is how
    many other words may stand between a value's words (2); `tokenizer` splits texts into
    words (`Tokenizer.default_tokenizer`); `locale` is passed to it."""

    def __init__(
        self,
        allow_partial_matches: bool = False,
        locale: str | None = None,
        max_token_distance: int = 2,
        tokenizer: TokenizerFunction | None = None,
    ) -> None:
        self.allow_partial_matches = bool(allow_partial_matches)
        self.locale = locale
        self.max_token_distance = 2 if max_token_distance is None else max_token_distance
        self.tokenizer = tokenizer


class FindChoicesOptions(FindValuesOptions):
    """What a choice may be named by: not its value (`no_value`), not its action's title
    (`no_action`); and, in `ChoiceRecognizers.recognize_choices`, its number ("2", "two")
    and ordinal ("2nd", "second") unless `recognize_numbers` / `recognize_ordinals` are
    False. `locale` also decides the language of numbers and ordinals."""

    def __init__(
        self,
        no_value: bool = False,
        no_action: bool = False,
        recognize_numbers: bool = True,
        recognize_ordinals: bool = True,
        allow_partial_matches: bool = False,
        locale: str | None = None,
        max_token_distance: int = 2,
        tokenizer: TokenizerFunction | None = None,
    ) -> None:
        super().__init__(allow_partial_matches, locale, max_token_distance, tokenizer)
        self.no_value = bool(no_value)
        self.no_action = bool(no_action)
        self.recognize_numbers = recognize_numbers
        self.recognize_ordinals = recognize_ordinals


@dataclass(frozen=True)
class _Match:
    index: int
    value: str
    first: int  # token positions in the utterance, inclusive
    last: int
    score: float
    matched: int


class Find:
    """Finders of values and choices named in words."""

    @staticmethod
    def find_values(
        utterance: str | None,
        values: Sequence[SortedValue],
        options: FindValuesOptions | None = None,
    ) -> list[ModelResult[FoundValue]]:
        """The values named in `utterance`, in the order they appear."""
        opts = options or FindValuesOptions()
        tokenize = opts.tokenizer or Tokenizer.default_tokenizer
        tokens = tokenize(utterance or "", opts.locale)
        if not tokens:
            return []
        matches = [
            match
            for sorted_value in values
            for match in _matches(
                tokens, sorted_value, tokenize(sorted_value.value, opts.locale), opts
            )
        ]
        # Best first: higher score, more words ("dark red" over "red"), earlier, lower index.
        matches.sort(key=lambda m: (-m.score, -m.matched, m.first, m.index))
        taken: list[_Match] = []
        for match in matches:
            if all(
                match.index != t.index and (match.last < t.first or match.first > t.last)
                for t in taken
            ):
                taken.append(match)
        taken.sort(key=lambda m: m.first)
        text = utterance or ""
        return [
            ModelResult(
                text[tokens[m.first].start : tokens[m.last].end + 1],
                tokens[m.first].start,
                tokens[m.last].end,
                "value",
                FoundValue(m.value, m.index, m.score),
            )
            for m in taken
        ]

    @staticmethod
    def find_choices(
        utterance: str | None,
        choices: Sequence[Choice | str],
        options: FindChoicesOptions | None = None,
    ) -> list[ModelResult[FoundChoice]]:
        """The choices named in `utterance` by value, action title or synonym, in the order
        they appear; each at most once."""
        opts = options or FindChoicesOptions()
        items = to_choices(choices)
        synonyms = [
            SortedValue(synonym, index)
            for index, choice in enumerate(items)
            for synonym in _synonyms(choice, opts)
        ]
        return [
            ModelResult(
                found.text,
                found.start,
                found.end,
                "choice",
                FoundChoice(
                    items[found.resolution.index].value,
                    found.resolution.index,
                    found.resolution.score,
                    found.resolution.value,
                ),
            )
            for found in Find.find_values(utterance, synonyms, opts)
        ]


def _synonyms(choice: Choice, opts: FindChoicesOptions) -> list[str]:
    synonyms = [] if opts.no_value or not choice.value else [choice.value]
    if not opts.no_action and choice.action is not None and choice.action.title:
        synonyms.append(choice.action.title)
    synonyms.extend(choice.synonyms or ())
    return synonyms


def _matches(
    tokens: list[Token], value: SortedValue, words: list[Token], opts: FindValuesOptions
) -> list[_Match]:
    """Where the utterance names `value`: from each place one of its words appears (only its
    first word, unless partial matches are allowed), its following words in order, each at
    most `max_token_distance` other words after the one before; the best match per place."""
    found: list[_Match] = []
    starts = range(len(words)) if opts.allow_partial_matches else range(min(1, len(words)))
    for position, token in enumerate(tokens):
        best: _Match | None = None
        for start in starts:
            if token.normalized != words[start].normalized:
                continue
            matched, last = 1, position
            for word in words[start + 1 :]:
                window = range(last + 1, min(len(tokens), last + 2 + opts.max_token_distance))
                at = next((p for p in window if tokens[p].normalized == word.normalized), None)
                if at is not None:
                    matched, last = matched + 1, at
                elif not opts.allow_partial_matches:
                    break
            else:
                # Complete (all its words) times accurate (no other words between them).
                score = (matched / len(words)) * (matched / (last - position + 1))
                if best is None or score > best.score:
                    best = _Match(value.index, value.value, position, last, score, matched)
        if best is not None:
            found.append(best)
    return found
