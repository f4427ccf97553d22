"""Choice: one option offered to the user, and FoundChoice: the option the user picked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.schema.activity import CardAction


@dataclass
class Choice:
    """An option of a ChoicePrompt (or ConfirmPrompt).

    `value` is what the prompt returns and what the user may type; `action` replaces the
    button that is otherwise built from `value` (its `title` is then shown instead of `value`);
    `synonyms` are other words that pick this choice. `Choice()` has the value "" (botbuilder's
    is None) until one is set.
    """

    value: str = ""
    action: CardAction | None = None
    synonyms: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for dialog state (`action` in Bot Framework wire format)."""
        data: dict[str, Any] = {"value": self.value}
        if self.action is not None:
            data["action"] = self.action.to_dict()
        if self.synonyms is not None:
            data["synonyms"] = list(self.synonyms)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Choice:
        """The choice `to_dict` stored."""
        action = data.get("action")
        synonyms = data.get("synonyms")
        return cls(
            value=str(data.get("value", "")),
            action=CardAction.from_dict(action) if isinstance(action, dict) else None,
            synonyms=[str(s) for s in synonyms] if isinstance(synonyms, list) else None,
        )


@dataclass
class FoundChoice:
    """The choice recognized in the user's reply: what ChoicePrompt returns.

    `index` is the choice's position in the list offered, `score` how well the reply matched
    (1.0 for an exact match or a number), `synonym` the value or synonym that matched (None
    when the user answered with the choice's number).
    """

    value: str
    index: int
    score: float
    synonym: str | None = None


def to_choices(choices: Sequence[Choice | str] | None) -> list[Choice]:
    """Choices from choices and strings: a string `s` becomes `Choice(value=s)`."""
    return [Choice(value=c) if isinstance(c, str) else c for c in choices or ()]
