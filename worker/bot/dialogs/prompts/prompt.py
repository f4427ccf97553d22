"""Prompt: the base of the dialogs that ask one question and end with the answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Generic

from shared.schema.activity import Activity, ActivityTypes, InputHints
from worker.bot.dialogs.choices import Choice, ChoiceFactory, ChoiceFactoryOptions, ListStyle
from worker.bot.dialogs.dialog import Dialog, DialogInstance, DialogReason, DialogTurnResult
from worker.bot.dialogs.dialog_context import DialogContext
from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.dialogs.prompts.prompt_validator_context import (
    ATTEMPT_COUNT_KEY,
    PromptRecognizerResult,
    PromptValidator,
    PromptValidatorContext,
    T,
)
from worker.bot.turn_context import TurnContext

PERSISTED_OPTIONS = "options"
PERSISTED_STATE = "state"


class Prompt(Dialog, Generic[T]):
    """Asks with `options.prompt`, then reads each reply until one is valid and ends with it.

    Each message reply is recognized (`on_recognize`), then checked by the validator if there
    is one (else it must merely be recognized). A valid reply ends the prompt with the value;
    otherwise the prompt sends `retry_prompt` (or `prompt` again) unless the validator already
    replied, and waits. Other activities (events, typing, …) are ignored.

    The instance state is plain data: `{"options": PromptOptions.to_dict(), "state": {...}}`.
    Subclasses implement `on_recognize`, and `on_prompt` if they show more than the prompt.
    """

    persisted_options = PERSISTED_OPTIONS
    persisted_state = PERSISTED_STATE
    reads_every_activity = False
    """True for a prompt that answers to any activity (ActivityPrompt), not only messages."""

    def __init__(self, dialog_id: str, validator: PromptValidator[T] | None = None) -> None:
        super().__init__(dialog_id)
        self._validator = validator

    async def begin_dialog(
        self, dialog_context: DialogContext, options: Any = None
    ) -> DialogTurnResult:
        """Store the options, send the prompt and wait for the reply.

        `options` is a PromptOptions, or its stored shape (`PromptOptions.to_dict()`).
        """
        if isinstance(options, Mapping):
            options = PromptOptions.from_dict(options)
        if not isinstance(options, PromptOptions):
            raise TypeError(f"{type(self).__name__} {self.id!r} needs PromptOptions")
        # A copy through plain data: the first turn asks exactly as a later turn (rebuilt from
        # storage) would, and the caller's activities are left as they were.
        stored = PromptOptions.from_dict(options.to_dict())
        for activity in (stored.prompt, stored.retry_prompt):
            if activity is not None and not activity.input_hint:
                activity.input_hint = InputHints.EXPECTING_INPUT
        instance = _active(dialog_context)
        instance.state[PERSISTED_OPTIONS] = stored.to_dict()
        instance.state[PERSISTED_STATE] = {}
        await self.on_prompt(dialog_context.context, _state(instance), stored, False)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Recognize and validate the reply: end with the value, or ask again and wait."""
        turn_context = dialog_context.context
        if turn_context.activity.type != ActivityTypes.MESSAGE and not self.reads_every_activity:
            return Dialog.end_of_turn
        instance = _active(dialog_context)
        state = _state(instance)
        options = _options(instance)
        recognized = await self.on_recognize(turn_context, state, options)
        # Counted before validating: the validator sees 1 on the first reply (C#/JS semantics).
        count = state.get(ATTEMPT_COUNT_KEY)
        state[ATTEMPT_COUNT_KEY] = (count if isinstance(count, int) else 0) + 1
        if self._validator is not None:
            is_valid = await self._validator(
                PromptValidatorContext(turn_context, recognized, state, options)
            )
            options.number_of_attempts += 1
            instance.state[PERSISTED_OPTIONS] = options.to_dict()
        else:
            is_valid = recognized.succeeded
        if is_valid:
            return await dialog_context.end_dialog(recognized.value)
        if not turn_context.responded:
            await self.on_prompt(turn_context, state, options, True)
        return Dialog.end_of_turn

    async def resume_dialog(
        self, dialog_context: DialogContext, reason: DialogReason, result: Any = None
    ) -> DialogTurnResult:
        """A dialog started on top of the prompt ended: ask again rather than end unanswered."""
        await self.reprompt_dialog(dialog_context.context, _active(dialog_context))
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Send the prompt again (not the retry prompt)."""
        await self.on_prompt(context, _state(instance), _options(instance), False)

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, Any],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        """Send `retry_prompt` when retrying (if there is one), else `prompt` (if any)."""
        require(turn_context, options)
        prompt = options.retry_prompt if is_retry and options.retry_prompt else options.prompt
        if prompt is not None:
            await turn_context.send_activity(prompt)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, Any], options: PromptOptions
    ) -> PromptRecognizerResult[T]:
        """Read the value out of the user's reply."""
        raise NotImplementedError(f"{type(self).__name__} must implement on_recognize")

    def append_choices(
        self,
        prompt: Activity | None,
        channel_id: str | None,
        choices: Sequence[Choice | str],
        style: ListStyle,
        options: ChoiceFactoryOptions | None = None,
    ) -> Activity:
        """A copy of `prompt` that also shows `choices` in `style`.

        The prompt keeps its other content; its text becomes the text with the choices (or
        moves into the hero card). Without a prompt, a new message that expects input.
        """
        text = prompt.text if prompt is not None and prompt.text else ""
        message = _render(style, channel_id, choices, text, options)
        if prompt is None:
            return message
        combined = dataclasses.replace(prompt)
        combined.text = message.text or None
        if message.suggested_actions is not None and message.suggested_actions.actions:
            combined.suggested_actions = message.suggested_actions
        if message.attachments:
            combined.attachments = [*(prompt.attachments or ()), *message.attachments]
        return combined


def _render(
    style: ListStyle,
    channel_id: str | None,
    choices: Sequence[Choice | str],
    text: str,
    options: ChoiceFactoryOptions | None,
) -> Activity:
    if style is ListStyle.none:
        return Activity(
            type=ActivityTypes.MESSAGE, text=text or None, input_hint=InputHints.EXPECTING_INPUT
        )
    if style is ListStyle.in_line:
        return ChoiceFactory.inline(choices, text, None, options)
    if style is ListStyle.list_style:
        return ChoiceFactory.list_style(choices, text, None, options)
    if style is ListStyle.suggested_action:
        return ChoiceFactory.suggested_action(choices, text)
    if style is ListStyle.hero_card:
        return ChoiceFactory.hero_card(choices, text)
    return ChoiceFactory.for_channel(channel_id, choices, text, None, options)


def require(turn_context: TurnContext | None, options: PromptOptions | None = None) -> None:
    """A TypeError (as botbuilder raises) when a prompt's hook is called without a turn or,
    where it needs them, without options."""
    if turn_context is None:
        raise TypeError("a prompt needs the turn's TurnContext")
    if options is None:
        raise TypeError("a prompt needs its PromptOptions")


def has_content(activity: Activity) -> bool:
    """False for a message with nothing to show: no text, attachments or suggested actions."""
    return bool(
        activity.text
        or activity.attachments
        or (activity.suggested_actions and activity.suggested_actions.actions)
        or activity.speak
    )


def _active(dialog_context: DialogContext) -> DialogInstance:
    instance = dialog_context.active_dialog
    if instance is None:
        raise RuntimeError("a prompt was run with no active dialog on the stack")
    return instance


def _state(instance: DialogInstance) -> dict[str, Any]:
    state = instance.state.get(PERSISTED_STATE)
    if not isinstance(state, dict):
        state = instance.state[PERSISTED_STATE] = {}
    return state


def _options(instance: DialogInstance) -> PromptOptions:
    stored = instance.state.get(PERSISTED_OPTIONS)
    return PromptOptions.from_dict(stored) if isinstance(stored, Mapping) else PromptOptions()
