"""ActivityPrompt: waits for an activity of any kind (an event, an invoke, a message) that
its validator accepts."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import Activity
from worker.bot.dialogs.prompts.prompt import Prompt, require
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
)
from worker.bot.turn_context import TurnContext


class ActivityPrompt(Prompt[Activity]):
    """Ends with the first activity its validator accepts; the validator is required, since
    every activity is "recognized" (`recognized.value` is the activity). Unlike the other
    prompts it also reads activities that are not messages, so subclasses can wait for an
    event ("the payment went through") or an invoke."""

    reads_every_activity = True

    def __init__(self, dialog_id: str, validator: PromptValidator[Activity]) -> None:
        if validator is None:
            raise TypeError("ActivityPrompt needs a validator: every activity is recognized")
        super().__init__(dialog_id, validator)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[Activity]:
        require(turn_context, options)
        return PromptRecognizerResult(True, turn_context.activity)
