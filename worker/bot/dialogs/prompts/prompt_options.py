"""PromptOptions: what a prompt asks, and how it is kept in dialog state as plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Activity, InputHints
from worker.bot.dialogs.choices import Choice, ListStyle, to_choices
from worker.bot.dialogs.waterfall import Record
from worker.bot.message_factory import MessageFactory
from worker.bot.state import to_plain


@dataclass(init=False)
class PromptOptions:
    """The options of `DialogContext.prompt(dialog_id, options)`.

    `prompt` and `retry_prompt` may be given as text: they become messages that expect input.
    `choices` (ChoicePrompt) may be strings. `validations` is anything the validator wants to
    read back; it is kept in dialog state, so it must be plain data or a simple object (it
    comes back as a dict that also answers attribute access). `number_of_attempts` counts the
    validations done before the current one (the SDK's meaning); see
    `PromptValidatorContext.attempt_count` for a count that includes it.

    A prompt stores its options with `to_dict` and rebuilds them every turn with `from_dict`,
    so any worker can continue it.
    """

    prompt: Activity | None
    retry_prompt: Activity | None
    choices: list[Choice] | None
    style: ListStyle | None
    validations: Any
    number_of_attempts: int

    def __init__(
        self,
        prompt: Activity | str | None = None,
        retry_prompt: Activity | str | None = None,
        choices: Sequence[Choice | str] | None = None,
        style: ListStyle | None = None,
        validations: Any = None,
        number_of_attempts: int = 0,
    ) -> None:
        self.prompt = _activity(prompt)
        self.retry_prompt = _activity(retry_prompt)
        self.choices = to_choices(choices) if choices is not None else None
        self.style = style
        self.validations = validations
        self.number_of_attempts = number_of_attempts

    def to_dict(self) -> dict[str, Any]:
        """Plain data for dialog state (activities in Bot Framework wire format)."""
        return {
            "prompt": self.prompt.to_dict() if self.prompt else None,
            "retryPrompt": self.retry_prompt.to_dict() if self.retry_prompt else None,
            "choices": [c.to_dict() for c in self.choices] if self.choices is not None else None,
            "style": self.style.value if self.style is not None else None,
            "validations": to_plain(self.validations),
            "numberOfAttempts": self.number_of_attempts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptOptions:
        """The options `to_dict` stored; anything unreadable is left unset, not an error."""
        choices = data.get("choices")
        validations = data.get("validations")
        attempts = data.get("numberOfAttempts")
        return cls(
            prompt=_stored_activity(data.get("prompt")),
            retry_prompt=_stored_activity(data.get("retryPrompt")),
            choices=(
                [Choice.from_dict(c) for c in choices if isinstance(c, dict)]
                if isinstance(choices, list)
                else None
            ),
            style=_style(data.get("style")),
            validations=Record(validations) if isinstance(validations, dict) else validations,
            number_of_attempts=attempts if isinstance(attempts, int) else 0,
        )


def _activity(prompt: Activity | str | None) -> Activity | None:
    if isinstance(prompt, str):
        return MessageFactory.text(prompt, input_hint=InputHints.EXPECTING_INPUT)
    return prompt


def _stored_activity(data: Any) -> Activity | None:
    if isinstance(data, str):
        return _activity(data)
    return Activity.from_dict(data) if isinstance(data, dict) else None


def _style(value: Any) -> ListStyle | None:
    try:
        return ListStyle(value) if value is not None else None
    except ValueError:
        return None
