"""Recognizers: what a language-understanding step returns, with botbuilder-python's names.

`Recognizer` is the interface a bot's NLU client implements (`recognize(turn_context)`);
`RecognizerResult` carries the intents with their scores and the entities found, and
`get_top_scoring_intent()` picks the best intent, as botbuilder's does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from worker.bot.turn_context import TurnContext


class TopIntent(NamedTuple):
    """The best intent of a result and its score."""

    intent: str
    score: float


@dataclass
class IntentScore:
    """How sure a recognizer is of one intent (0 to 1), with anything else it reports."""

    score: float | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecognizerResult:
    """What a recognizer understood of `text`: intents by name, entities, extra properties."""

    text: str | None = None
    altered_text: str | None = None
    """The text as the recognizer corrected it (spelling), if it did."""
    intents: dict[str, IntentScore] | None = None
    entities: dict[str, Any] | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def convert(self, result: Any) -> None:
        """Take the text, intents, entities and properties of another result (any object with
        those attributes, e.g. a recognizer's own result class)."""
        self.text = result.text
        self.altered_text = result.altered_text
        self.intents = result.intents
        self.entities = result.entities
        self.properties = result.properties

    def get_top_scoring_intent(self) -> TopIntent:
        """The intent with the highest score; `TopIntent("", 0.0)` when no intent scored above
        zero. Raises TypeError when the result holds no intents at all (`intents` is None)."""
        if self.intents is None:
            raise TypeError("result.intents can't be None")
        top = TopIntent("", 0.0)
        for name, intent in self.intents.items():
            if intent.score is not None and intent.score > top.score:
                top = TopIntent(name, intent.score)
        return top


class Recognizer(ABC):
    """What a language-understanding client implements for a bot to call in its turn."""

    @abstractmethod
    async def recognize(self, turn_context: TurnContext) -> RecognizerResult:
        """What the turn's activity means."""
