"""The Bot Framework's media, receipt and sign-in cards, with botbuilder-python's names.

Hero and thumbnail cards, `CardImage` and `CardAction` live in `shared.schema.activity` beside the
activity that carries them; these are the other card types a bot sends (wrap each with its
`CardFactory` method). Wire names are camelCase (`connectionName`), as for every `Model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.schema.activity import CardAction, CardImage, Model


@dataclass
class MediaUrl(Model):
    """One media file of a media card; `profile` tells alternatives apart (e.g. "hd")."""

    url: str | None = None
    profile: str | None = None


@dataclass
class ThumbnailUrl(Model):
    """The image a media card shows before it plays."""

    url: str | None = None
    alt: str | None = None


@dataclass
class MediaCard(Model):
    """What animation, audio and video cards share: their media, how to play them, buttons."""

    title: str | None = None
    subtitle: str | None = None
    text: str | None = None
    image: ThumbnailUrl | None = None
    media: list[MediaUrl] | None = None
    """Alternative formats of the same content; the client plays the first it can."""
    buttons: list[CardAction] | None = None
    shareable: bool | None = None
    autoloop: bool | None = None
    autostart: bool | None = None
    aspect: str | None = None
    """Of the image or player: "16:9" or "4:3"."""
    duration: str | None = None
    """ISO 8601 duration, e.g. "PT2M10S"."""
    value: Any = None


@dataclass
class AnimationCard(MediaCard):
    """An animated GIF or a short video; `CardFactory.animation_card`."""


@dataclass
class AudioCard(MediaCard):
    """An audio file to play; `CardFactory.audio_card`."""


@dataclass
class VideoCard(MediaCard):
    """A video to play; `CardFactory.video_card`."""


@dataclass
class Fact(Model):
    """A key and a value shown as one line of a receipt card."""

    key: str | None = None
    value: str | None = None


@dataclass
class ReceiptItem(Model):
    """One line item of a receipt card."""

    title: str | None = None
    subtitle: str | None = None
    text: str | None = None
    image: CardImage | None = None
    price: str | None = None
    quantity: str | None = None
    tap: CardAction | None = None


@dataclass
class ReceiptCard(Model):
    """A receipt: facts, line items, tax, VAT and total; `CardFactory.receipt_card`."""

    title: str | None = None
    facts: list[Fact] | None = None
    items: list[ReceiptItem] | None = None
    tap: CardAction | None = None
    total: str | None = None
    tax: str | None = None
    vat: str | None = None
    buttons: list[CardAction] | None = None


@dataclass
class SigninCard(Model):
    """Text and a sign-in button (a `signin` action to a login page); `CardFactory.signin_card`."""

    text: str | None = None
    buttons: list[CardAction] | None = None


@dataclass
class TokenExchangeResource(Model):
    """What a channel needs to exchange a user's token for the bot's (single sign-on)."""

    id: str | None = None
    uri: str | None = None
    provider_id: str | None = None


@dataclass
class TokenPostResource(Model):
    """Where a channel may post a user's token directly."""

    sas_url: str | None = None


@dataclass
class OAuthCard(Model):
    """A sign-in request through the Bot Framework token service, for the OAuth connection
    `connection_name`; `CardFactory.oauth_card`."""

    text: str | None = None
    connection_name: str | None = None
    buttons: list[CardAction] | None = None
    token_exchange_resource: TokenExchangeResource | None = None
    token_post_resource: TokenPostResource | None = None
