"""The smaller parts of the Bot Framework schema: places and geo entities, expected replies,
conversation listings, attachment info, the basic card, media event values and adaptive card
actions. botbuilder-python's names; camelCase on the wire as every `Model`. (Reactions, text
highlights and semantic actions, which an `Activity` holds, are in `shared.schema.activity`.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Activity, CardAction, CardImage, ChannelAccount, Model


@dataclass
class Thing(Model):
    """The most generic schema.org entity: a type and a name."""

    type: str | None = None
    name: str | None = None


@dataclass
class GeoCoordinates(Model):
    """A geographic position (schema.org `GeoCoordinates`)."""

    elevation: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    type: str | None = None
    name: str | None = None


@dataclass
class Place(Model):
    """A place (schema.org `Place`): an address and coordinates, as the channel sends them."""

    address: Any = None
    geo: Any = None
    has_map: Any = None
    type: str | None = None
    name: str | None = None


@dataclass
class ExpectedReplies(Model):
    """The replies to a `deliveryMode: expectReplies` activity, in the HTTP answer."""

    activities: list[Activity] | None = None


@dataclass
class ConversationMembers(Model):
    """A conversation and its members, in a listing of conversations."""

    id: str | None = None
    members: list[ChannelAccount] | None = None


@dataclass
class ConversationsResult(Model):
    """A page of the conversations a bot is in (`GET /v3/conversations`)."""

    continuation_token: str | None = None
    conversations: list[ConversationMembers] | None = None


@dataclass
class AttachmentView(Model):
    """One view of an uploaded attachment (original, thumbnail) and its size."""

    view_id: str | None = None
    size: int | None = None


@dataclass
class AttachmentInfo(Model):
    """What the connector knows of an uploaded attachment: its name, type and views."""

    name: str | None = None
    type: str | None = None
    views: list[AttachmentView] | None = None


@dataclass
class BasicCard(Model):
    """A card with title, subtitle, text, images, buttons and a tap action."""

    title: str | None = None
    subtitle: str | None = None
    text: str | None = None
    images: list[CardImage] | None = None
    buttons: list[CardAction] | None = None
    tap: CardAction | None = None


@dataclass
class MediaEventValue(Model):
    """The value of a media event: the `value` of the media card that raised it."""

    card_value: Any = None


@dataclass
class AdaptiveCardInvokeAction(Model):
    """The action of an `adaptiveCard/action` invoke (`Action.Execute`): its verb and data."""

    type: str | None = None
    id: str | None = None
    verb: str | None = None
    data: dict[str, Any] | None = None
