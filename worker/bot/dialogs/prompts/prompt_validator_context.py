"""What a prompt recognized, and what its validator sees."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from worker.bot.dialogs.prompts.prompt_options import PromptOptions
from worker.bot.turn_context import TurnContext

if TYPE_CHECKING:
    # A default (PEP 696, in typing only from 3.13) lets code ported from botbuilder annotate a
    # bare `PromptValidatorContext` under mypy --strict; it means PromptValidatorContext[Any].
    from typing_extensions import TypeVar

    T = TypeVar("T", default=Any)
else:
    T = typing.TypeVar("T")

ATTEMPT_COUNT_KEY = "AttemptCount"
"""Where a prompt counts the replies it has validated, in its own state (the SDK's key)."""


@dataclass
class PromptRecognizerResult(Generic[T]):
    """Whether the reply held a value of the prompt's kind, and the value.

    `value` is None when `succeeded` is False. It is typed as the value itself, as the SDK
    uses it: a validator checks `succeeded` and then reads `value` without a None check.
    """

    succeeded: bool = False
    value: T = None  # type: ignore[assignment]


class PromptValidatorContext(Generic[T]):
    """What a validator is given: the turn, what was recognized, the prompt's state and options.

    The validator returns True to accept `recognized.value` (the prompt then ends with it) or
    False to ask again. If it sends a message itself, the prompt does not send its retry prompt.
    """

    def __init__(
        self,
        turn_context: TurnContext,
        recognized: PromptRecognizerResult[T],
        state: dict[str, Any],
        options: PromptOptions,
    ) -> None:
        self.context = turn_context
        self.recognized = recognized
        self.state = state
        self.options = options

    @property
    def attempt_count(self) -> int:
        """This validation's number: 1 for the first reply, 2 for the second, …

        botbuilder-python always reports 0 here; this is the C# and JS SDKs' meaning.
        """
        count = self.state.get(ATTEMPT_COUNT_KEY, 0)
        return count if isinstance(count, int) else 0


PromptValidator = Callable[[PromptValidatorContext[T]], Awaitable[bool]]
"""`async def validator(prompt_context) -> bool`: accept the recognized value, or ask again."""
