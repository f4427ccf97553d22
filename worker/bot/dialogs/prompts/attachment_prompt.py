"""AttachmentPrompt: asks for a file, an image or any other attachment."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import ActivityTypes, Attachment
from worker.bot.dialogs.prompts.prompt import Prompt, require
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import PromptRecognizerResult
from worker.bot.turn_context import TurnContext


class AttachmentPrompt(Prompt[list[Attachment]]):
    """Ends with the attachments of the user's message; a message without any is not an
    answer. Check the content types in a validator if only some are wanted."""

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[list[Attachment]]:
        require(turn_context, options)
        activity = turn_context.activity
        if activity.type == ActivityTypes.MESSAGE and activity.attachments:
            return PromptRecognizerResult(True, list(activity.attachments))
        return PromptRecognizerResult()
