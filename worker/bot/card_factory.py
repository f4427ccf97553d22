"""CardFactory: wrap rich cards in the attachments a message carries.

Same names and arguments as botbuilder-python's `CardFactory`, so bot code ports by changing its
imports. Put the attachment in a message with `MessageFactory.attachment` (or `.carousel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.activity import ActionTypes, Attachment, CardAction, CardImage, HeroCard, ThumbnailCard


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
        """A hero card attachment: one large image above the title, text and buttons.

        Raises TypeError if `card` is not a `HeroCard`.
        """
        if not isinstance(card, HeroCard):
            raise TypeError(
                f"CardFactory.hero_card(): card must be a HeroCard, got {type(card).__name__}"
            )
        return Attachment(content_type=ContentTypes.HERO_CARD, content=card)

    @staticmethod
    def thumbnail_card(card: ThumbnailCard) -> Attachment:
        """A thumbnail card attachment: a small image beside the title and text, buttons below.

        Raises TypeError if `card` is not a `ThumbnailCard`.
        """
        if not isinstance(card, ThumbnailCard):
            raise TypeError(
                "CardFactory.thumbnail_card(): card must be a ThumbnailCard, "
                f"got {type(card).__name__}"
            )
        return Attachment(content_type=ContentTypes.THUMBNAIL_CARD, content=card)

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
