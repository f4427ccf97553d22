"""TextPrompt: asks for text."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import ActivityTypes
from worker.bot.dialogs.prompts.prompt import Prompt, require
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import PromptRecognizerResult
from worker.bot.turn_context import TurnContext


class TextPrompt(Prompt[str]):
    """Ends with the text of the user's message. A message with no text, or only blanks (an
    attachment alone, a card submit), is not an answer."""

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[str]:
        require(turn_context, options)
        activity = turn_context.activity
        text = activity.text
        if activity.type == ActivityTypes.MESSAGE and isinstance(text, str) and text.strip():
            return PromptRecognizerResult(True, text)
        return PromptRecognizerResult()
