"""NumberPrompt: asks for a number."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.choices.numbers import recognize_number
from worker.bot.dialogs.prompts.culture import prompt_culture
from worker.bot.dialogs.prompts.prompt import Prompt, require
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext


class NumberPrompt(Prompt[int | float]):
    """Ends with the first number in the reply: an `int` ("42", "1,000", "twenty one") or a
    `float` ("3.5"). Digit separators follow the activity's locale, else `default_locale`;
    number words are English. Check ranges in a validator."""

    def __init__(
        self,
        dialog_id: str,
        validator: PromptValidator[int | float] | None = None,
        default_locale: str | None = None,
    ) -> None:
        super().__init__(dialog_id, validator)
        self.default_locale = default_locale

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[int | float]:
        require(turn_context, options)
        activity = turn_context.activity
        if activity.type != ActivityTypes.MESSAGE or not isinstance(activity.text, str):
            return PromptRecognizerResult()
        found = recognize_number(activity.text, prompt_culture(activity, self.default_locale))
        if not found:
            return PromptRecognizerResult()
        return PromptRecognizerResult(True, found[0].value)
