"""Prompts, as in `botbuilder.dialogs.prompts`: dialogs that ask one question and end with the
answer (`TextPrompt`, `NumberPrompt`, `ConfirmPrompt`, `ChoicePrompt`, `DateTimePrompt`,
`AttachmentPrompt`), their options and their validators."""

from __future__ import annotations

from worker.dialogs.prompts.attachment_prompt import AttachmentPrompt
from worker.dialogs.prompts.choice_prompt import ChoicePrompt
from worker.dialogs.prompts.confirm_prompt import ConfirmPrompt, recognize_boolean
from worker.dialogs.prompts.datetime_prompt import DateTimePrompt
from worker.dialogs.prompts.datetime_recognizer import DateTimeResolution, recognize_datetime
from worker.dialogs.prompts.number_prompt import NumberPrompt
from worker.dialogs.prompts.prompt import Prompt
from worker.dialogs.prompts.prompt_options import PromptOptions
from worker.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
    PromptValidatorContext,
)
from worker.dialogs.prompts.text_prompt import TextPrompt

__all__ = [
    "AttachmentPrompt",
    "ChoicePrompt",
    "ConfirmPrompt",
    "DateTimePrompt",
    "DateTimeResolution",
    "NumberPrompt",
    "Prompt",
    "PromptOptions",
    "PromptRecognizerResult",
    "PromptValidator",
    "PromptValidatorContext",
    "TextPrompt",
    "recognize_boolean",
    "recognize_datetime",
]
