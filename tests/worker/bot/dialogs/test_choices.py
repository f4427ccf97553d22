"""ChoiceFactory and ChoiceRecognizers on their own (pure logic)."""

from __future__ import annotations

from shared.schema.activity import ActionTypes, Activity, CardAction, InputHints
from tests.support.activities import message as inbound_message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.dialogs.choices import (
    Channel,
    Choice,
    ChoiceFactory,
    ChoiceFactoryOptions,
    ChoiceRecognizers,
    FindChoicesOptions,
    FoundChoice,
    ListStyle,
)
from worker.bot.turn_context import TurnContext


def test_inline_joins_with_or_and_commas() -> None:
    assert ChoiceFactory.inline(["a"], "Pick").text == "Pick (1) a"
    assert ChoiceFactory.inline(["a", "b"], "Pick").text == "Pick (1) a or (2) b"
    # botbuilder's leading space when there is no text.
    assert ChoiceFactory.inline(["a", "b", "c"]).text == " (1) a, (2) b, or (3) c"
    options = ChoiceFactoryOptions(" / ", " | ", " |or| ", include_numbers=False)
    assert (
        ChoiceFactory.inline(["a", "b", "c"], "Pick", options=options).text == "Pick a / b |or| c"
    )
    assert ChoiceFactory.inline(["a", "b"], "Pick", options=options).text == "Pick a | b"


def test_list_style_is_numbered_or_bulleted() -> None:
    assert ChoiceFactory.list_style(["a", "b"], "Pick").text == "Pick\n\n   1. a\n   2. b"
    bulleted = ChoiceFactory.list_style(
        ["a", "b"], options=ChoiceFactoryOptions(include_numbers=False)
    )
    assert bulleted.text == "   - a\n   - b"


def test_every_form_expects_input() -> None:
    for message in (
        ChoiceFactory.inline(["a"]),
        ChoiceFactory.list_style(["a"]),
        ChoiceFactory.suggested_action(["a"]),
        ChoiceFactory.hero_card(["a"]),
    ):
        assert message.type == "message"
        assert message.input_hint == InputHints.EXPECTING_INPUT


def test_actions_come_from_the_choice_or_its_value() -> None:
    own = CardAction(type=ActionTypes.OPEN_URL, title="Docs", value="https://example.com")
    assert ChoiceFactory.extract_actions(["a", Choice("b", action=own)]) == [
        CardAction(type=ActionTypes.IM_BACK, title="a", value="a"),
        own,
    ]


def test_for_channel_follows_the_sdk_rule() -> None:
    assert ChoiceFactory.for_channel("webchat", ["a", "b"], "Pick").suggested_actions is not None
    assert ChoiceFactory.for_channel("msteams", ["a", "b"], "Pick").attachments is not None
    assert ChoiceFactory.for_channel("sms", ["a", "b"], "Pick").text == "Pick (1) a or (2) b"
    four = ChoiceFactory.for_channel("sms", ["a", "b", "c", "d"], "Pick")
    assert four.text == "Pick\n\n   1. a\n   2. b\n   3. c\n   4. d"
    assert ChoiceFactory.for_channel(None, [], "Pick").text == "Pick"


def test_channel_capabilities() -> None:
    assert Channel.supports_suggested_actions("facebook", 10)
    assert not Channel.supports_suggested_actions("facebook", 11)
    assert not Channel.supports_suggested_actions("unknown", 0)
    assert Channel.supports_card_actions("msteams", 3)
    assert not Channel.supports_card_actions("msteams", 4)
    assert Channel.max_action_title_length("webchat") == 20
    assert Channel.supports_suggested_actions("kik", button_cnt=20)  # botbuilder's keyword
    assert Channel.has_message_feed("sms")


def test_channel_id_of_a_turn() -> None:
    activity = Activity.from_dict(inbound_message("hi", channel="slack"))
    assert Channel.get_channel_id(TurnContext(RecordingSender(), activity)) == "slack"


def test_list_style_aliases() -> None:
    assert ListStyle["list"] is ListStyle.list_style
    assert ListStyle(3) is ListStyle.list_style


def test_several_choices_come_back_in_the_order_they_were_said() -> None:
    found = ChoiceRecognizers.recognize_choices("blue, then red, then blue again", ["red", "blue"])
    assert [(r.resolution.value, r.text, r.start, r.end) for r in found] == [
        ("blue", "blue", 0, 3),
        ("red", "red", 11, 13),
    ]


def test_the_longer_overlapping_value_wins() -> None:
    (found,) = ChoiceRecognizers.recognize_choices("new york city", ["York", "New York City"])
    assert found.resolution == FoundChoice("New York City", 1, 1.0, "New York City")


def test_numbers_count_only_when_no_choice_is_named() -> None:
    choices = ["1 hour", "2 hours", "10 hours"]
    (named,) = ChoiceRecognizers.recognize_choices("10 hours", choices)
    assert named.resolution.index == 2
    (by_number,) = ChoiceRecognizers.recognize_choices("2", choices)
    assert by_number.resolution == FoundChoice("2 hours", 1, 1.0)
    assert ChoiceRecognizers.recognize_choices("4", choices) == []
    assert ChoiceRecognizers.recognize_choices("1.5", choices) == []


def test_options_turn_matching_parts_off() -> None:
    choices: list[Choice | str] = [Choice("red", synonyms=["crimson"]), "green"]
    no_numbers = FindChoicesOptions(recognize_numbers=False, recognize_ordinals=False)
    assert ChoiceRecognizers.recognize_choices("2", choices, no_numbers) == []
    assert ChoiceRecognizers.recognize_choices("second", choices, no_numbers) == []
    (synonym,) = ChoiceRecognizers.recognize_choices(
        "crimson", choices, FindChoicesOptions(no_value=True)
    )
    assert synonym.resolution.value == "red"
    assert (
        ChoiceRecognizers.recognize_choices("red", choices, FindChoicesOptions(no_value=True)) == []
    )


def test_nothing_to_match() -> None:
    assert ChoiceRecognizers.recognize_choices(None, ["a"]) == []
    assert ChoiceRecognizers.recognize_choices("", ["a"]) == []
    assert ChoiceRecognizers.recognize_choices("a", []) == []
    assert ChoiceRecognizers.recognize_choices("?", [Choice("")]) == []
