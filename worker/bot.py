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
from worker.activity_handler import ActivityHandler
from worker.app import BotApp
from worker.card_factory import CardFactory, ContentTypes
from worker.conversations import (
    delete_conversation_member,
    get_activity_members,
    get_conversation_members,
    get_member,
    get_paged_members,
    iter_members,
    send_conversation_history,
    upload_attachment,
)
from worker.errors import ConnectorError
from worker.invoke import (
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    InvokeResponse,
    InvokeResponseError,
)
from worker.message_factory import MessageFactory
from worker.middleware import Middleware, MiddlewareSet
from worker.redis_storage import RedisStorage
from worker.state import (
    BotState,
    BotStateSet,
    ConversationState,
    PrivateConversationState,
    StatePropertyAccessor,
    UserState,
)
from worker.state_middleware import AutoSaveStateMiddleware
from worker.storage import EtagConflict, MemoryStorage, Storage, StorageError
from worker.transcript import (
    PagedResult,
    RedisTranscriptStore,
    TranscriptInfo,
    TranscriptLoggerMiddleware,
    TranscriptStore,
)
from worker.turn_context import TurnContext
from worker.types import Bot, NextHandler, OnTurnError, TurnHandler
from worker.typing_middleware import ShowTypingMiddleware

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
    "TurnContext",
    "TurnHandler",
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
