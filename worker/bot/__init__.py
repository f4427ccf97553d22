"""Everything a bot author imports: `from worker.bot import ActivityHandler, TurnContext, ...`.

Names and signatures follow botbuilder-python, so a bot written for it ports by changing its
imports. Each name below is documented where it is defined.
"""

from __future__ import annotations

from shared.activity import (
    ActionTypes,
    Activity,
    ActivityTypes,
    Attachment,
    AttachmentData,
    AttachmentLayoutTypes,
    CardAction,
    CardImage,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ConversationResourceResponse,
    Entity,
    ErrorResponse,
    HeroCard,
    InputHints,
    Mention,
    PagedMembersResult,
    ResourceResponse,
    SuggestedActions,
    TextFormatTypes,
    ThumbnailCard,
    Transcript,
)
from worker.bot.activity_handler import ActivityHandler
from worker.bot.app import BotApp
from worker.bot.card_factory import CardFactory, ContentTypes
from worker.bot.conversations import (
    delete_conversation_member,
    get_activity_members,
    get_conversation_members,
    get_member,
    get_paged_members,
    iter_members,
    send_conversation_history,
    upload_attachment,
)
from worker.bot.invoke import (
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    InvokeResponse,
    InvokeResponseError,
)
from worker.bot.message_factory import MessageFactory
from worker.bot.middleware import Middleware, MiddlewareSet
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import (
    BotState,
    BotStateSet,
    ConversationState,
    PrivateConversationState,
    StatePropertyAccessor,
    UserState,
)
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import EtagConflict, MemoryStorage, Storage, StorageError, TurnStorage
from worker.bot.transcript import (
    PagedResult,
    RedisTranscriptStore,
    TranscriptInfo,
    TranscriptLoggerMiddleware,
    TranscriptStore,
)
from worker.bot.turn_commit import FencedWrite, TurnCommit
from worker.bot.turn_context import TurnContext
from worker.bot.types import Bot, NextHandler, OnTurnError, TurnHandler
from worker.bot.typing_middleware import ShowTypingMiddleware
from worker.errors import ConnectorError

__all__ = [
    "ActionTypes",
    "Activity",
    "ActivityHandler",
    "ActivityTypes",
    "AdaptiveCardInvokeResponse",
    "AdaptiveCardInvokeValue",
    "Attachment",
    "AttachmentData",
    "AttachmentLayoutTypes",
    "AutoSaveStateMiddleware",
    "Bot",
    "BotApp",
    "BotState",
    "BotStateSet",
    "CardAction",
    "CardFactory",
    "CardImage",
    "ChannelAccount",
    "ConnectorError",
    "ContentTypes",
    "ConversationAccount",
    "ConversationParameters",
    "ConversationReference",
    "ConversationResourceResponse",
    "ConversationState",
    "Entity",
    "ErrorResponse",
    "EtagConflict",
    "FencedWrite",
    "HeroCard",
    "InputHints",
    "InvokeResponse",
    "InvokeResponseError",
    "MemoryStorage",
    "Mention",
    "MessageFactory",
    "Middleware",
    "MiddlewareSet",
    "NextHandler",
    "OnTurnError",
    "PagedMembersResult",
    "PagedResult",
    "PrivateConversationState",
    "RedisStorage",
    "RedisTranscriptStore",
    "ResourceResponse",
    "ShowTypingMiddleware",
    "StatePropertyAccessor",
    "Storage",
    "StorageError",
    "SuggestedActions",
    "TextFormatTypes",
    "ThumbnailCard",
    "Transcript",
    "TranscriptInfo",
    "TranscriptLoggerMiddleware",
    "TranscriptStore",
    "TurnCommit",
    "TurnContext",
    "TurnHandler",
    "TurnStorage",
    "UserState",
    "delete_conversation_member",
    "get_activity_members",
    "get_conversation_members",
    "get_member",
    "get_paged_members",
    "iter_members",
    "send_conversation_history",
    "upload_attachment",
]
