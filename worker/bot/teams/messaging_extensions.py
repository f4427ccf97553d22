"""Message extensions (`composeExtension/*` invokes): search queries, actions on messages, link
unfurling, and the answers to them; the message an action was started from
(`MessageActionsPayload`). botbuilder-python's names; camelCase on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Activity, Attachment, CardAction, Model
from worker.bot.teams.task_modules import (
    CacheInfo,
    TaskModuleRequest,
    TaskModuleResponseBase,
)


@dataclass
class MessageActionsPayloadUser(Model):
    """A user who wrote, reacted to or is mentioned in a message."""

    user_identity_type: str | None = None
    id: str | None = None
    display_name: str | None = None


@dataclass
class MessageActionsPayloadApp(Model):
    """An app that wrote a message."""

    application_identity_type: str | None = None
    id: str | None = None
    display_name: str | None = None


@dataclass
class MessageActionsPayloadConversation(Model):
    """A conversation (team, channel, chat) that wrote a message."""

    conversation_identity_type: str | None = None
    id: str | None = None
    display_name: str | None = None


@dataclass
class MessageActionsPayloadFrom(Model):
    """Who wrote a message: a user, an app or a conversation."""

    user: MessageActionsPayloadUser | None = None
    application: MessageActionsPayloadApp | None = None
    conversation: MessageActionsPayloadConversation | None = None


@dataclass
class MessageActionsPayloadBody(Model):
    """A message's body: "html" or "text", and its content."""

    content_type: str | None = None
    content: str | None = None


@dataclass
class MessageActionsPayloadAttachment(Model):
    """An attachment of a message."""

    id: str | None = None
    content_type: str | None = None
    content_url: str | None = None
    content: Any = None
    name: str | None = None
    thumbnail_url: str | None = None


@dataclass
class MessageActionsPayloadMention(Model):
    """A mention in a message."""

    id: int | None = None
    mention_text: str | None = None
    mentioned: MessageActionsPayloadFrom | None = None


@dataclass
class MessageActionsPayloadReaction(Model):
    """A reaction to a message."""

    reaction_type: str | None = None
    created_date_time: str | None = None
    user: MessageActionsPayloadFrom | None = None


@dataclass
class MessageActionsPayload(Model):
    """The message a message action was started from."""

    id: str | None = None
    reply_to_id: str | None = None
    message_type: str | None = None
    created_date_time: str | None = None
    last_modified_date_time: str | None = None
    deleted: bool | None = None
    subject: str | None = None
    summary: str | None = None
    importance: str | None = None
    locale: str | None = None
    link_to_message: str | None = None
    from_property: MessageActionsPayloadFrom | None = None
    body: MessageActionsPayloadBody | None = None
    attachment_layout: str | None = None
    attachments: list[MessageActionsPayloadAttachment] | None = None
    mentions: list[MessageActionsPayloadMention] | None = None
    reactions: list[MessageActionsPayloadReaction] | None = None


@dataclass(kw_only=True)
class MessagingExtensionAction(TaskModuleRequest):
    """The value of `composeExtension/submitAction` and `composeExtension/fetchTask`."""

    command_id: str | None = None
    command_context: str | None = None
    """"message", "compose" or "commandbox": where the action was started."""
    bot_message_preview_action: str | None = None
    """"edit" or "send" when the user acted on the bot's preview."""
    bot_activity_preview: list[Activity] | None = None
    message_payload: MessageActionsPayload | None = None


@dataclass
class MessagingExtensionParameter(Model):
    """A named parameter of a search query (e.g. `searchQuery`)."""

    name: str | None = None
    value: Any = None


@dataclass
class MessagingExtensionQueryOptions(Model):
    """Paging of a search query."""

    skip: int | None = None
    count: int | None = None


@dataclass
class MessagingExtensionQuery(Model):
    """The value of `composeExtension/query` (and `querySettingUrl`)."""

    command_id: str | None = None
    parameters: list[MessagingExtensionParameter] | None = None
    query_options: MessagingExtensionQueryOptions | None = None
    state: str | None = None


@dataclass
class AppBasedLinkQuery(Model):
    """The value of `composeExtension/queryLink`: a link the user pasted, to unfurl."""

    url: str | None = None
    state: str | None = None


@dataclass
class SigninStateVerificationQuery(Model):
    """The value of `signin/verifyState`: the state (a magic code) to check."""

    state: str | None = None


# Keyword-only, as in botbuilder: Attachment's fields come first otherwise.
@dataclass(kw_only=True)
class MessagingExtensionAttachment(Attachment):
    """A search result: a card, with the smaller `preview` card shown in the result list."""

    preview: Attachment | None = None


@dataclass
class MessagingExtensionSuggestedAction(Model):
    """Actions offered with a message extension answer (e.g. the sign-in link)."""

    actions: list[CardAction] | None = None


@dataclass
class MessagingExtensionResult(Model):
    """What a message extension answers: `type` "result" (attachments), "auth", "config",
    "message" (text) or "botMessagePreview" (`activity_preview`)."""

    attachment_layout: str | None = None
    type: str | None = None
    attachments: list[MessagingExtensionAttachment] | None = None
    suggested_actions: MessagingExtensionSuggestedAction | None = None
    text: str | None = None
    activity_preview: Activity | None = None


@dataclass
class MessagingExtensionResponse(Model):
    """The answer to `composeExtension/query`, `selectItem`, `queryLink`, `querySettingUrl`."""

    compose_extension: MessagingExtensionResult | None = None
    cache_info: CacheInfo | None = None


@dataclass
class MessagingExtensionActionResponse(Model):
    """The answer to `composeExtension/submitAction` and `fetchTask`: a task module to show,
    or a result to insert."""

    task: TaskModuleResponseBase | None = None
    compose_extension: MessagingExtensionResult | None = None
    cache_info: CacheInfo | None = None
