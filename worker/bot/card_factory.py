"""CardFactory: wrap rich cards in the attachments a message carries.

Same names and arguments as botbuilder-python's `CardFactory`, so bot code ports by changing its
imports. Put the attachment in a message with `MessageFactory.attachment` (or `.carousel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.schema.activity import (
    ActionTypes,
    Attachment,
    CardAction,
    CardImage,
    HeroCard,
    Model,
    ThumbnailCard,
)
from shared.schema.cards import (
    AnimationCard,
    AudioCard,
    OAuthCard,
    ReceiptCard,
    SigninCard,
    VideoCard,
)


class ContentTypes:
    """The `Attachment.content_type` of each Bot Framework card.

    UPPER_CASE names as elsewhere in turnstream, with botbuilder's lowercase spellings as aliases
    so `CardFactory.content_types.hero_card` ports unchanged.
    """

    ADAPTIVE_CARD = adaptive_card = "application/vnd.microsoft.card.adaptive"
    ANIMATION_CARD = animation_card = "application/vnd.microsoft.card.animation"
    AUDIO_CARD = audio_card = "application/vnd.microsoft.card.audio"
    HERO_CARD = hero_card = "application/vnd.microsoft.card.hero"
    RECEIPT_CARD = receipt_card = "application/vnd.microsoft.card.receipt"
    OAUTH_CARD = oauth_card = "application/vnd.microsoft.card.oauth"
    SIGNIN_CARD = signin_card = "application/vnd.microsoft.card.signin"
    THUMBNAIL_CARD = thumbnail_card = "application/vnd.microsoft.card.thumbnail"
    VIDEO_CARD = video_card = "application/vnd.microsoft.card.video"


class CardFactory:
    """Builders for card attachments, and for the button and image lists cards hold."""

    content_types = ContentTypes

    @staticmethod
    def adaptive_card(card: dict[str, Any]) -> Attachment:
        """An Adaptive Card attachment from the card's JSON (a dict with `"type": "AdaptiveCard"`).

        Raises TypeError if `card` is not a dict and ValueError if it is not an Adaptive Card: a
        channel would otherwise drop or mis-render it with no error at the bot.
        """
        if not isinstance(card, dict):
            raise TypeError(
                f"CardFactory.adaptive_card(): card must be a dict of Adaptive Card JSON, "
                f"got {type(card).__name__}"
            )
        if card.get("type") != "AdaptiveCard":
            raise ValueError(
                f'CardFactory.adaptive_card(): card["type"] must be "AdaptiveCard", '
                f"got {card.get('type')!r}"
            )
        return Attachment(content_type=ContentTypes.ADAPTIVE_CARD, content=card)

    @staticmethod
    def hero_card(card: HeroCard) -> Attachment:
        """A hero card attachment: one large image above the title, text and buttons."""
        return _wrap(card, HeroCard, ContentTypes.HERO_CARD, "hero_card")

    @staticmethod
    def thumbnail_card(card: ThumbnailCard) -> Attachment:
        """A thumbnail card attachment: a small image beside the title and text, buttons below."""
        return _wrap(card, ThumbnailCard, ContentTypes.THUMBNAIL_CARD, "thumbnail_card")

    @staticmethod
    def animation_card(card: AnimationCard) -> Attachment:
        """An animation card attachment: an animated GIF or a short video."""
        return _wrap(card, AnimationCard, ContentTypes.ANIMATION_CARD, "animation_card")

    @staticmethod
    def audio_card(card: AudioCard) -> Attachment:
        """An audio card attachment."""
        return _wrap(card, AudioCard, ContentTypes.AUDIO_CARD, "audio_card")

    @staticmethod
    def video_card(card: VideoCard) -> Attachment:
        """A video card attachment."""
        return _wrap(card, VideoCard, ContentTypes.VIDEO_CARD, "video_card")

    @staticmethod
    def receipt_card(card: ReceiptCard) -> Attachment:
        """A receipt card attachment."""
        return _wrap(card, ReceiptCard, ContentTypes.RECEIPT_CARD, "receipt_card")

    @staticmethod
    def signin_card(card: SigninCard) -> Attachment:
        """A sign-in card attachment: text and a button to a login page."""
        return _wrap(card, SigninCard, ContentTypes.SIGNIN_CARD, "signin_card")

    @staticmethod
    def oauth_card(card: OAuthCard) -> Attachment:
        """An OAuth card attachment: sign-in through the token service's connection."""
        return _wrap(card, OAuthCard, ContentTypes.OAUTH_CARD, "oauth_card")

    @staticmethod
    def actions(actions: Sequence[CardAction | str]) -> list[CardAction]:
        """Card actions from actions and strings; a string becomes an imBack of itself.

        `CardFactory.actions(["Yes", "No"])` gives two buttons that send "Yes" / "No" back as
        messages when tapped.
        """
        return [
            CardAction(type=ActionTypes.IM_BACK, title=action, value=action)
            if isinstance(action, str)
            else action
            for action in actions
        ]

    @staticmethod
    def images(images: Sequence[CardImage | str]) -> list[CardImage]:
        """Card images from images and URLs; a string becomes `CardImage(url=string)`."""
        return [CardImage(url=image) if isinstance(image, str) else image for image in images]


def _wrap(card: Model, expected: type[Model], content_type: str, method: str) -> Attachment:
    """`card` as the content of an attachment of `content_type`; TypeError naming `method` if it
    is not an `expected` (a channel would drop a mistyped card with no error at the bot)."""
    if not isinstance(card, expected):
        raise TypeError(
            f"CardFactory.{method}(): card must be a {expected.__name__}, got {type(card).__name__}"
        )
    return Attachment(content_type=content_type, content=card)
