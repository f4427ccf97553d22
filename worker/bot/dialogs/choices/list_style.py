"""ListStyle: how a prompt shows its choices."""

from __future__ import annotations

import enum


class ListStyle(enum.Enum):
    """How ChoicePrompt and ConfirmPrompt render their choices (the SDK's values).

    `auto` lets `ChoiceFactory.for_channel` decide from what the channel supports: suggested
    actions where the channel has them, a hero card where it has only card buttons, else an
    inline list for up to three short choices and a numbered list otherwise.
    """

    none = 0
    """The prompt's text alone: the choices are not shown."""
    auto = 1
    """Chosen per channel by `ChoiceFactory.for_channel`."""
    in_line = 2
    """In the text: `Pick one: (1) red, (2) green, or (3) blue`."""
    list_style = 3
    """A numbered list under the text."""
    suggested_action = 4
    """Suggested-action buttons under the message."""
    hero_card = 5
    """A hero card whose buttons are the choices."""

    # The SDK's name is `list_style`; `ListStyle.list` reads better and is the same member.
    list = 3
