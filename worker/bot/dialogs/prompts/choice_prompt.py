"""ChoicePrompt: asks the user to pick one of a list of choices."""

from __future__ import annotations

import copy
from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.choices import (
    ChoiceFactoryOptions,
    ChoiceRecognizers,
    FindChoicesOptions,
    FoundChoice,
    ListStyle,
)
from worker.bot.dialogs.prompts.culture import prompt_culture
from worker.bot.dialogs.prompts.prompt import Prompt, has_content, require
from worker.bot.dialogs.prompts.prompt_culture_models import PromptCultureModels
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext


class ChoicePrompt(Prompt[FoundChoice]):
    """Shows `options.choices` and ends with the `FoundChoice` the user named: by value,
    action title or synonym (case-insensitive, anywhere in the reply: "the red one"), else by
    number or ordinal ("2", "two", "2nd", "second").

    `options.style` (else the prompt's `style`, `ListStyle.auto`) says how the choices are
    shown; `choice_options` how inline and list styles write them (else `choice_defaults`
    for the culture: the activity's locale, else `default_locale`, else English, nearest of
    `PromptCultureModels`); `recognizer_options` what a reply may match. Numbers and
    ordinals are recognized in the locale's language.
    """

    def __init__(
        self,
        dialog_id: str,
        validator: PromptValidator[FoundChoice] | None = None,
        default_locale: str | None = None,
        choice_defaults: dict[str, ChoiceFactoryOptions] | None = None,
    ) -> None:
        super().__init__(dialog_id, validator)
        self.style = ListStyle.auto
        self.default_locale = default_locale
        self.choice_options: ChoiceFactoryOptions | None = None
        self.recognizer_options: FindChoicesOptions | None = None
        self.choice_defaults = choice_defaults or default_choice_options()

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, Any],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        require(turn_context, options)
        culture = prompt_culture(turn_context.activity, self.default_locale, self.choice_defaults)
        prompt = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        message = self.append_choices(
            prompt,
            turn_context.activity.channel_id,
            options.choices or [],
            options.style if options.style is not None else self.style,
            self.choice_options or self.choice_defaults.get(culture),
        )
        if has_content(message):
            await turn_context.send_activity(message)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[FoundChoice]:
        require(turn_context, options)
        activity = turn_context.activity
        if activity.type != ActivityTypes.MESSAGE or not isinstance(activity.text, str):
            return PromptRecognizerResult()
        recognizer = self.recognizer_options or FindChoicesOptions()
        if recognizer.locale is None:
            culture = prompt_culture(activity, self.default_locale)
            recognizer = copy.copy(recognizer)
            recognizer.locale = culture
        found = ChoiceRecognizers.recognize_choices(
            activity.text, options.choices or [], recognizer
        )
        if not found:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, found[0].resolution)


def default_choice_options() -> dict[str, ChoiceFactoryOptions]:
    """How each culture of `PromptCultureModels` writes a list: "(1) rojo, (2) verde, o (3)
    azul"."""
    return {
        model.locale: ChoiceFactoryOptions(
            model.separator, model.inline_or, model.inline_or_more, include_numbers=True
        )
        for model in PromptCultureModels.get_supported_cultures()
    }
