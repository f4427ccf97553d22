"""Recognizer, RecognizerResult, IntentScore and TopIntent behave as botbuilder's."""

from __future__ import annotations

import pytest

from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot import IntentScore, Recognizer, RecognizerResult, TopIntent, TurnContext


def test_the_top_scoring_intent() -> None:
    result = RecognizerResult(
        text="book a flight",
        intents={
            "None": IntentScore(0.1),
            "BookFlight": IntentScore(0.9),
            "Weather": IntentScore(),
        },
    )
    assert result.get_top_scoring_intent() == TopIntent("BookFlight", 0.9)
    top = result.get_top_scoring_intent()
    assert (top.intent, top.score) == ("BookFlight", 0.9)


def test_no_intent_above_zero_and_no_intents_at_all() -> None:
    assert RecognizerResult(intents={}).get_top_scoring_intent() == TopIntent("", 0.0)
    assert RecognizerResult(intents={"x": IntentScore(0.0)}).get_top_scoring_intent().intent == ""
    with pytest.raises(TypeError):
        RecognizerResult().get_top_scoring_intent()


async def test_a_recognizer_is_called_with_the_turn() -> None:
    class Keywords(Recognizer):
        async def recognize(self, turn_context: TurnContext) -> RecognizerResult:
            text = turn_context.activity.text or ""
            score = 1.0 if "flight" in text else 0.0
            return RecognizerResult(text=text, intents={"BookFlight": IntentScore(score)})

    context = TurnContext(RecordingSender(), Activity.from_dict(message("a flight please")))
    result = await Keywords().recognize(context)
    assert result.get_top_scoring_intent() == ("BookFlight", 1.0)
    with pytest.raises(TypeError):
        Recognizer()  # type: ignore[abstract]


def test_a_result_takes_over_another_results_fields() -> None:
    other = RecognizerResult(
        text="book", altered_text="Book", intents={"Book": IntentScore(0.9)}, entities={}
    )
    result = RecognizerResult()
    result.convert(other)
    assert (result.text, result.altered_text) == ("book", "Book")
    assert result.get_top_scoring_intent() == TopIntent("Book", 0.9)
