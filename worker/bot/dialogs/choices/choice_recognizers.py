"""ChoiceRecognizers: which of the offered choices a reply names.

A reply names a choice in words (its value, its action's title or a synonym: see `Find`), or
else by its position: "2", "two", "2nd", "second" (in the options' locale's language).
"""

from __future__ import annotations

from collections.abc import Sequence

from worker.bot.dialogs.choices.choice import Choice, FoundChoice, to_choices
from worker.bot.dialogs.choices.find import Find, FindChoicesOptions, ModelResult
from worker.bot.dialogs.choices.numbers import NumberMatch, recognize_number, recognize_ordinal


class ChoiceRecognizers:
    """Recognizers of the choice a user picked."""

    @staticmethod
    def recognize_choices(
        utterance: str | None,
        choices: Sequence[Choice | str],
        options: FindChoicesOptions | None = None,
    ) -> list[ModelResult[FoundChoice]]:
        """The choices named in `utterance`, in the order they appear.

        Words are tried first; numbers and ordinals only when no choice is named in words, so
        "the third one" or "2 blue" is never read both ways.
        """
        opts = options or FindChoicesOptions()
        items = to_choices(choices)
        found = Find.find_choices(utterance, items, opts)
        if found or not utterance:
            return found
        positions: list[NumberMatch] = []
        if opts.recognize_ordinals:
            positions = recognize_ordinal(utterance, opts.locale)
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


find_choices = Find.find_choices
"""The choices named in words (not by number): `Find.find_choices`."""
