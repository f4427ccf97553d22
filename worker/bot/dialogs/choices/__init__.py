"""Choices, as in `botbuilder.dialogs.choices`: what ChoicePrompt and ConfirmPrompt offer, how
they are shown (ChoiceFactory, ListStyle) and how a reply is matched (ChoiceRecognizers)."""

from __future__ import annotations

from worker.bot.dialogs.choices.channel import Channel
from worker.bot.dialogs.choices.choice import Choice, FoundChoice, to_choices
from worker.bot.dialogs.choices.choice_factory import ChoiceFactory, ChoiceFactoryOptions
from worker.bot.dialogs.choices.choice_recognizers import ChoiceRecognizers, find_choices
from worker.bot.dialogs.choices.find import (
    Find,
    FindChoicesOptions,
    FindValuesOptions,
    FoundValue,
    ModelResult,
    SortedValue,
)
from worker.bot.dialogs.choices.list_style import ListStyle
from worker.bot.dialogs.choices.numbers import NumberMatch, recognize_number, recognize_ordinal
from worker.bot.dialogs.choices.tokenizer import Token, Tokenizer

__all__ = [
    "Channel",
    "Choice",
    "ChoiceFactory",
    "ChoiceFactoryOptions",
    "ChoiceRecognizers",
    "Find",
    "FindChoicesOptions",
    "FindValuesOptions",
    "FoundChoice",
    "FoundValue",
    "ListStyle",
    "ModelResult",
    "NumberMatch",
    "SortedValue",
    "Token",
    "Tokenizer",
    "find_choices",
    "recognize_number",
    "recognize_ordinal",
    "to_choices",
]
