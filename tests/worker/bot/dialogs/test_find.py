"""Tokenizer, Find and their options with botbuilder's names (pure logic)."""

from __future__ import annotations

from shared.schema.activity import CardAction
from worker.bot.dialogs.choices import (
    Choice,
    Find,
    FindChoicesOptions,
    FindValuesOptions,
    FoundValue,
    SortedValue,
    Token,
    Tokenizer,
)


def test_tokens_are_words_between_spaces_and_punctuation_with_inclusive_ends() -> None:
    assert Tokenizer.default_tokenizer("Hi-there, Bob?") == [
        Token(0, 1, "Hi", "hi"),
        Token(3, 7, "there", "there"),
        Token(10, 12, "Bob", "bob"),
    ]
    assert Tokenizer.default_tokenizer("...!") == []
    assert Tokenizer.default_tokenizer(None) == []


def test_each_symbol_is_a_token_of_its_own() -> None:
    tokens = Tokenizer.default_tokenizer("tea ☕🍰")
    assert [(t.text, t.start, t.end) for t in tokens] == [("tea", 0, 2), ("☕", 4, 4), ("🍰", 5, 5)]


def test_accented_and_cjk_words_stay_whole() -> None:
    assert [t.text for t in Tokenizer.default_tokenizer("¿Qué tal? 红色")] == ["Qué", "tal", "红色"]


def test_find_values_reports_position_value_index_and_score() -> None:
    values = [SortedValue("dark green", 0), SortedValue("green", 1)]
    found = Find.find_values("I like dark green, not green", values)
    assert [(f.text, f.start, f.end, f.type_name) for f in found] == [
        ("dark green", 7, 16, "value"),
        ("green", 23, 27, "value"),
    ]
    assert [f.resolution for f in found] == [
        FoundValue("dark green", 0, 1.0),
        FoundValue("green", 1, 1.0),
    ]


def test_words_spread_apart_score_less() -> None:
    found = Find.find_values("dark and very green", [SortedValue("dark green", 0)])
    assert found[0].resolution.score == 2 / 4
    too_far = FindValuesOptions(max_token_distance=1)
    assert Find.find_values("dark and very green", [SortedValue("dark green", 0)], too_far) == []


def test_partial_matches_only_when_allowed() -> None:
    values = [SortedValue("option A", 0), SortedValue("option B", 1)]
    assert Find.find_values("the option", values) == []
    partial = Find.find_values("the option", values, FindValuesOptions(allow_partial_matches=True))
    assert [(f.resolution.value, f.resolution.score) for f in partial] == [("option A", 0.5)]
    exact = Find.find_values("option B", values, FindValuesOptions(allow_partial_matches=True))
    assert [(f.resolution.value, f.resolution.score) for f in exact] == [("option B", 1.0)]


def test_a_custom_tokenizer_is_used_for_both_sides() -> None:
    def letters(text: str, locale: str | None) -> list[Token]:
        return [Token(i, i, c, c.lower()) for i, c in enumerate(text) if c.isalpha()]

    found = Find.find_values("xBy", [SortedValue("b", 0)], FindValuesOptions(tokenizer=letters))
    assert [(f.text, f.start) for f in found] == [("B", 1)]


def test_find_choices_names_the_synonym_matched() -> None:
    choices = [
        Choice("red", synonyms=["crimson"]),
        Choice("blue", action=CardAction(type="imBack", title="Ocean", value="blue")),
    ]
    found = Find.find_choices("crimson or ocean", choices)
    assert [(f.type_name, f.resolution.value, f.resolution.synonym) for f in found] == [
        ("choice", "red", "crimson"),
        ("choice", "blue", "Ocean"),
    ]
    assert Find.find_choices("ocean", choices, FindChoicesOptions(no_action=True)) == []


def test_a_choice_without_a_value_gets_one_later() -> None:
    choice = Choice()
    assert choice.value == ""
    choice.value = "any"
    assert Find.find_choices("any", [choice])[0].resolution.index == 0
