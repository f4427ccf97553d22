"""Dialogs, as in `botbuilder.dialogs`: `from worker.bot.dialogs import WaterfallDialog, ...`.

The stack lives in conversation state as plain data in the Bot Framework's portable shape
(`{"dialogStack": [{"id": ..., "state": {...}}]}`), so any worker can continue any dialog.
"""

from __future__ import annotations

from worker.bot.dialogs.auto_sign_in import SIGNED_IN_TOKEN_KEY, AutoSignInMiddleware
from worker.bot.dialogs.choices import (
    Choice,
    ChoiceFactory,
    ChoiceFactoryOptions,
    ChoiceRecognizers,
    FindChoicesOptions,
    FoundChoice,
    ListStyle,
)
from worker.bot.dialogs.component_dialog import ComponentDialog
from worker.bot.dialogs.dialog import (
    Dialog,
    DialogInstance,
    DialogReason,
    DialogTurnResult,
    DialogTurnStatus,
)
from worker.bot.dialogs.dialog_container import DialogContainer
from worker.bot.dialogs.dialog_context import DialogContext, DialogError
from worker.bot.dialogs.dialog_events import DialogEvent, DialogEvents
from worker.bot.dialogs.dialog_manager import DialogManager, DialogManagerResult
from worker.bot.dialogs.dialog_set import DialogSet
from worker.bot.dialogs.object_path import ObjectPath
from worker.bot.dialogs.prompts import (
    ActivityPrompt,
    AttachmentPrompt,
    ChoicePrompt,
    ConfirmPrompt,
    DateTimePrompt,
    DateTimeResolution,
    NumberPrompt,
    OAuthPrompt,
    OAuthPromptSettings,
    Prompt,
    PromptOptions,
    PromptRecognizerResult,
    PromptValidator,
    PromptValidatorContext,
    TextPrompt,
)
from worker.bot.dialogs.run_dialog import DialogExtensions, run_dialog
from worker.bot.dialogs.waterfall import (
    Record,
    WaterfallDialog,
    WaterfallStep,
    WaterfallStepContext,
)

__all__ = [
    "SIGNED_IN_TOKEN_KEY",
    "ActivityPrompt",
    "AttachmentPrompt",
    "AutoSignInMiddleware",
    "Choice",
    "ChoiceFactory",
    "ChoiceFactoryOptions",
    "ChoicePrompt",
    "ChoiceRecognizers",
    "ComponentDialog",
    "ConfirmPrompt",
    "DateTimePrompt",
    "DateTimeResolution",
    "Dialog",
    "DialogContainer",
    "DialogContext",
    "DialogError",
    "DialogEvent",
    "DialogEvents",
    "DialogExtensions",
    "DialogInstance",
    "DialogManager",
    "DialogManagerResult",
    "DialogReason",
    "DialogSet",
    "DialogTurnResult",
    "DialogTurnStatus",
    "FindChoicesOptions",
    "FoundChoice",
    "ListStyle",
    "NumberPrompt",
    "OAuthPrompt",
    "OAuthPromptSettings",
    "ObjectPath",
    "Prompt",
    "PromptOptions",
    "PromptRecognizerResult",
    "PromptValidator",
    "PromptValidatorContext",
    "Record",
    "TextPrompt",
    "WaterfallDialog",
    "WaterfallStep",
    "WaterfallStepContext",
    "run_dialog",
]
