"""ConfirmPrompt: asks a yes/no question."""

from __future__ import annotations

import re
from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.choices import (
    Choice,
    ChoiceFactoryOptions,
    ChoiceRecognizers,
    FindChoicesOptions,
    ListStyle,
)
from worker.bot.dialogs.prompts.culture import ENGLISH, prompt_culture
from worker.bot.dialogs.prompts.prompt import Prompt, has_content
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext

ChoiceDefaults = dict[str, tuple[Choice, Choice, ChoiceFactoryOptions]]
"""Per lower-case culture: the yes choice, the no choice, and how to write them."""

DEFAULT_CHOICE_DEFAULTS: ChoiceDefaults = {
    ENGLISH: (Choice("Yes"), Choice("No"), ChoiceFactoryOptions(", ", " or ", ", or ", True)),
}

_YES = frozenset(
    {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "true", "1", "affirmative"}
)
_NO = frozenset({"no", "n", "nope", "nah", "false", "0"})
_NEGATIONS = frozenset({"not", "don't", "dont", "never"})  # "not sure" is no yes
_WORD = re.compile(r"[\w']+")


def recognize_boolean(utterance: str) -> bool | None:
    """True or False for an English yes or no ("yeah", "nope", "OK!", "yes please"); None
    when the reply says neither, or both ("yes no", "not sure")."""
    words = {w.casefold() for w in _WORD.findall(utterance)}
    says_yes = bool(words & _YES) and not words & _NEGATIONS
    says_no = bool(words & _NO)
    if says_yes == says_no:
        return None
    return says_yes


def _mentions_boolean(utterance: str) -> bool:
    words = {w.casefold() for w in _WORD.findall(utterance)}
    return bool(words & (_YES | _NO))


class ConfirmPrompt(Prompt[bool]):
    """Ends with True or False. By default it asks "… (1) Yes or (2) No" (or with buttons,
    per `style` and channel; see `ListStyle`), and accepts English yes/no words and their
    synonyms, the choices' own text, and their numbers "1" and "2".

    Set `confirm_choices` to a pair of other choices (yes first), `choice_options` to change
    how they are written, `style` to change how they are shown.
    """

    def __init__(
        self,
        dialog_id: str,
        validator: PromptValidator[bool] | None = None,
        default_locale: str | None = None,
        choice_defaults: ChoiceDefaults | None = None,
    ) -> None:
        super().__init__(dialog_id, validator)
        self.style = ListStyle.auto
        self.default_locale = default_locale
        self.choice_options: ChoiceFactoryOptions | None = None
        self.confirm_choices: tuple[Choice | str, Choice | str] | None = None
        self.choice_defaults = choice_defaults or DEFAULT_CHOICE_DEFAULTS

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, Any],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        yes, no, factory_options = self._defaults(turn_context)
        prompt = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        message = self.append_choices(
            prompt,
            turn_context.activity.channel_id,
            [yes, no],
            self.style,
            self.choice_options or factory_options,
        )
        if has_content(message):
            await turn_context.send_activity(message)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[bool]:
        activity = turn_context.activity
        utterance = activity.text
        if activity.type != ActivityTypes.MESSAGE or not isinstance(utterance, str):
            return PromptRecognizerResult()
        value = recognize_boolean(utterance)
        if value is not None:
            return PromptRecognizerResult(True, value)
        if _mentions_boolean(utterance):  # said both yes and no: ask again, do not guess
            return PromptRecognizerResult()
        yes, no, factory_options = self._defaults(turn_context)
        numbered = (self.choice_options or factory_options).include_numbers
        found = ChoiceRecognizers.recognize_choices(
            utterance,
            [yes, no],
            FindChoicesOptions(recognize_numbers=numbered, recognize_ordinals=numbered),
        )
        if not found:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, found[0].resolution.index == 0)

    def _defaults(self, turn_context: TurnContext) -> tuple[Choice, Choice, ChoiceFactoryOptions]:
        culture = prompt_culture(turn_context.activity, self.default_locale, self.choice_defaults)
        yes, no, factory_options = self.choice_defaults.get(
            culture, DEFAULT_CHOICE_DEFAULTS[ENGLISH]
        )
        if self.confirm_choices is not None:
            yes, no = (Choice(c) if isinstance(c, str) else c for c in self.confirm_choices)
        return yes, no, factory_options
