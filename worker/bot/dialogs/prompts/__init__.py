"""Prompts, as in `botbuilder.dialogs.prompts`: dialogs that ask one question and end with the
answer (`TextPrompt`, `NumberPrompt`, `ConfirmPrompt`, `ChoicePrompt`, `DateTimePrompt`,
`AttachmentPrompt`, `ActivityPrompt`, `OAuthPrompt`), their options and their validators."""

from __future__ import annotations

from worker.bot.dialogs.prompts.activity_prompt import ActivityPrompt
from worker.bot.dialogs.prompts.attachment_prompt import AttachmentPrompt
from worker.bot.dialogs.prompts.choice_prompt import ChoicePrompt
from worker.bot.dialogs.prompts.confirm_prompt import ConfirmPrompt, recognize_boolean
from worker.bot.dialogs.prompts.datetime_prompt import DateTimePrompt
from worker.bot.dialogs.prompts.datetime_recognizer import DateTimeResolution, recognize_datetime
from worker.bot.dialogs.prompts.number_prompt import NumberPrompt
from worker.bot.dialogs.prompts.oauth_prompt import OAuthPrompt, OAuthPromptSettings
from worker.bot.dialogs.prompts.prompt import Prompt
from worker.bot.dialogs.prompts.prompt_culture_models import (
    PromptCultureModel,
    PromptCultureModels,
)
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    PromptRecognizerResult,
    PromptValidator,
    PromptValidatorContext,
)
from worker.bot.dialogs.prompts.text_prompt import TextPrompt

__all__ = [
    "ActivityPrompt",
    "AttachmentPrompt",
    "ChoicePrompt",
    "ConfirmPrompt",
    "DateTimePrompt",
    "DateTimeResolution",
    "NumberPrompt",
    "OAuthPrompt",
    "OAuthPromptSettings",
    "Prompt",
    "PromptCultureModel",
    "PromptCultureModels",
    "PromptOptions",
    "PromptRecognizerResult",
    "PromptValidator",
    "PromptValidatorContext",
    "TextPrompt",
    "recognize_boolean",
    "recognize_datetime",
]
