"""Everything a bot author imports: `from worker.bot import ActivityHandler, TurnContext, ...`.

Names follow botbuilder-python, so a bot written for it ports by changing its imports.
"""

from __future__ import annotations

from shared.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    InputHints,
    ResourceResponse,
)
from worker.activity_handler import ActivityHandler
from worker.turn_context import TurnContext
from worker.types import Bot, TurnHandler

__all__ = [
    "Activity",
    "ActivityHandler",
    "ActivityTypes",
    "Attachment",
    "Bot",
    "ChannelAccount",
    "ConversationAccount",
    "ConversationReference",
    "InputHints",
    "ResourceResponse",
    "TurnContext",
    "TurnHandler",
]
