"""CardFactory attachments and the card models' wire JSON (pure logic)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from shared.schema.activity import (
    ActionTypes,
    Activity,
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
    Fact,
    MediaUrl,
    OAuthCard,
    ReceiptCard,
    ReceiptItem,
    SigninCard,
    ThumbnailUrl,
    TokenExchangeResource,
    VideoCard,
)
from worker.bot.card_factory import CardFactory, ContentTypes

CARD_WIRE: dict[str, Any] = {
    "title": "Shirt",
    "subtitle": "White",
    "text": "100% cotton",
    "images": [
        {
            "url": "https://x/shirt.jpg",
            "alt": "a shirt",
            "tap": {"type": "showImage", "value": "https://x/shirt-large.jpg"},
        }
    ],
    "buttons": [
        {"type": "imBack", "title": "Buy", "value": "buy"},
        {
            "type": "messageBack",
            "title": "Like",
            "text": "like",
            "displayText": "I like it",
            "value": {"sku": 1},
            "channelData": {"x": 1},
            "image": "https://x/heart.png",
            "imageAltText": "heart",
        },
    ],
    "tap": {"type": "openUrl", "value": "https://x/shirt"},
}


def hero() -> HeroCard:
    return HeroCard(
        title="Shirt",
        subtitle="White",
        text="100% cotton",
        images=[
            CardImage(
                url="https://x/shirt.jpg",
                alt="a shirt",
                tap=CardAction(type=ActionTypes.SHOW_IMAGE, value="https://x/shirt-large.jpg"),
            )
        ],
        buttons=[
            CardAction(type=ActionTypes.IM_BACK, title="Buy", value="buy"),
            CardAction(
                type=ActionTypes.MESSAGE_BACK,
                title="Like",
                text="like",
                display_text="I like it",
                value={"sku": 1},
                channel_data={"x": 1},
                image="https://x/heart.png",
                image_alt_text="heart",
            ),
        ],
        tap=CardAction(type=ActionTypes.OPEN_URL, value="https://x/shirt"),
    )


def test_hero_card_attachment() -> None:
    attachment = CardFactory.hero_card(hero())
    assert attachment.to_dict() == {
        "contentType": "application/vnd.microsoft.card.hero",
        "content": CARD_WIRE,
    }


def test_thumbnail_card_attachment() -> None:
    card = ThumbnailCard(title="T", images=CardFactory.images(["https://x/t.png"]))
    assert CardFactory.thumbnail_card(card).to_dict() == {
        "contentType": "application/vnd.microsoft.card.thumbnail",
        "content": {"title": "T", "images": [{"url": "https://x/t.png"}]},
    }


def test_hero_and_thumbnail_cards_round_trip() -> None:
    card = hero()
    assert card.to_dict() == CARD_WIRE
    assert HeroCard.from_dict(CARD_WIRE) == card
    thumbnail = ThumbnailCard.from_dict(CARD_WIRE)
    assert thumbnail.buttons is not None
    assert thumbnail.buttons[1].display_text == "I like it"
    assert thumbnail.to_dict() == CARD_WIRE


def test_card_models_keep_unknown_fields() -> None:
    wire = {**CARD_WIRE, "x-future": True, "buttons": [{"type": "imBack", "x-b": 2}]}
    card = HeroCard.from_dict(wire)
    assert card.additional_properties == {"x-future": True}
    assert card.buttons == [CardAction(type="imBack", additional_properties={"x-b": 2})]
    assert card.to_dict() == wire


def test_attachment_with_a_card_round_trips_as_json() -> None:
    wire = CardFactory.hero_card(hero()).to_dict()
    assert Attachment.from_dict(wire).to_dict() == wire


def test_adaptive_card_attachment() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Hi"}]}
    assert CardFactory.adaptive_card(card).to_dict() == {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": card,
    }


def test_adaptive_card_rejects_a_non_dict() -> None:
    with pytest.raises(TypeError, match="dict"):
        CardFactory.adaptive_card(cast(Any, '{"type": "AdaptiveCard"}'))


def test_adaptive_card_rejects_other_json() -> None:
    with pytest.raises(ValueError, match="AdaptiveCard"):
        CardFactory.adaptive_card({"type": "MessageCard"})
    with pytest.raises(ValueError, match="AdaptiveCard"):
        CardFactory.adaptive_card({"body": []})


def test_hero_and_thumbnail_reject_the_wrong_card() -> None:
    with pytest.raises(TypeError, match="HeroCard"):
        CardFactory.hero_card(cast(Any, ThumbnailCard(title="x")))
    with pytest.raises(TypeError, match="ThumbnailCard"):
        CardFactory.thumbnail_card(cast(Any, {"title": "x"}))


def test_actions_turns_strings_into_im_back() -> None:
    url = CardAction(type=ActionTypes.OPEN_URL, title="Docs", value="https://docs")
    assert CardFactory.actions(["Yes", url]) == [
        CardAction(type="imBack", title="Yes", value="Yes"),
        url,
    ]


def test_images_turns_strings_into_card_images() -> None:
    image = CardImage(url="https://x/b.png", alt="b")
    assert CardFactory.images(["https://x/a.png", image]) == [
        CardImage(url="https://x/a.png"),
        image,
    ]


def test_content_types_match_botbuilder_spelling() -> None:
    assert CardFactory.content_types is ContentTypes
    assert ContentTypes.hero_card == ContentTypes.HERO_CARD == "application/vnd.microsoft.card.hero"
    assert ActionTypes.im_back == ActionTypes.IM_BACK == "imBack"


@pytest.mark.parametrize(
    ("method", "card", "content_type"),
    [
        ("animation_card", AnimationCard(media=[MediaUrl("https://x/a.gif")]), "animation"),
        ("audio_card", AudioCard(media=[MediaUrl("https://x/a.mp3")], autostart=True), "audio"),
        ("video_card", VideoCard(image=ThumbnailUrl("https://x/p.png"), aspect="16:9"), "video"),
        (
            "receipt_card",
            ReceiptCard(
                title="Order",
                facts=[Fact("Order number", "1234")],
                items=[ReceiptItem(title="Shoes", price="$20", image=CardImage("https://x/s"))],
                total="$20",
            ),
            "receipt",
        ),
        ("signin_card", SigninCard(text="Sign in", buttons=[CardAction("signin", "Go")]), "signin"),
        (
            "oauth_card",
            OAuthCard(
                text="Sign in",
                connection_name="graph",
                token_exchange_resource=TokenExchangeResource("x", "api://bot", "aad"),
            ),
            "oauth",
        ),
    ],
)
def test_the_other_cards_have_botbuilders_names_and_wire_shape(
    method: str, card: Model, content_type: str
) -> None:
    attachment = getattr(CardFactory, method)(card)
    assert attachment.content_type == f"application/vnd.microsoft.card.{content_type}"
    wire = Activity(type="message", attachments=[attachment]).to_dict()["attachments"][0]
    assert wire["content"] == card.to_dict()
    assert type(card).from_dict(wire["content"]) == card  # what a channel echoes back reads
    with pytest.raises(TypeError, match=f"CardFactory.{method}\\(\\): card must be a"):
        getattr(CardFactory, method)(HeroCard(title="not this one"))


def test_an_oauth_card_uses_the_bot_framework_wire_names() -> None:
    card = OAuthCard(
        connection_name="graph",
        token_exchange_resource=TokenExchangeResource("x", "api://bot", "aad"),
    )
    assert card.to_dict() == {
        "connectionName": "graph",
        "tokenExchangeResource": {"id": "x", "uri": "api://bot", "providerId": "aad"},
    }
