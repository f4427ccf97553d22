"""MessageFactory builds exactly the wire JSON botbuilder's would (pure logic)."""

from __future__ import annotations

from shared.schema.activity import (
    ActionTypes,
    Activity,
    Attachment,
    CardAction,
    HeroCard,
    InputHints,
)
from worker.bot.card_factory import CardFactory
from worker.bot.message_factory import MessageFactory

HERO = CardFactory.hero_card(HeroCard(title="A"))
HERO_WIRE = {"contentType": "application/vnd.microsoft.card.hero", "content": {"title": "A"}}
THUMB = Attachment(content_type="image/png", content_url="https://x/b.png")
THUMB_WIRE = {"contentType": "image/png", "contentUrl": "https://x/b.png"}


def test_text() -> None:
    assert MessageFactory.text("hello").to_dict() == {
        "type": "message",
        "text": "hello",
        "inputHint": "acceptingInput",
    }


def test_text_with_speak_and_input_hint() -> None:
    activity = MessageFactory.text("Age?", "How old are you?", InputHints.EXPECTING_INPUT)
    assert activity.to_dict() == {
        "type": "message",
        "text": "Age?",
        "speak": "How old are you?",
        "inputHint": "expectingInput",
    }


def test_suggested_actions_from_card_actions() -> None:
    actions = [
        CardAction(type=ActionTypes.IM_BACK, title="Red", value="red"),
        CardAction(type=ActionTypes.OPEN_URL, title="Docs", value="https://docs"),
    ]
    assert MessageFactory.suggested_actions(actions, "Pick one").to_dict() == {
        "type": "message",
        "text": "Pick one",
        "inputHint": "acceptingInput",
        "suggestedActions": {
            "actions": [
                {"type": "imBack", "title": "Red", "value": "red"},
                {"type": "openUrl", "title": "Docs", "value": "https://docs"},
            ]
        },
    }


def test_suggested_actions_strings_become_im_back() -> None:
    activity = MessageFactory.suggested_actions(["red", "blue"], speak="Pick a color")
    assert activity.to_dict() == {
        "type": "message",
        "speak": "Pick a color",
        "inputHint": "acceptingInput",
        "suggestedActions": {
            "actions": [
                {"type": "imBack", "title": "red", "value": "red"},
                {"type": "imBack", "title": "blue", "value": "blue"},
            ]
        },
    }


def test_attachment() -> None:
    assert MessageFactory.attachment(HERO, "Look").to_dict() == {
        "type": "message",
        "text": "Look",
        "inputHint": "acceptingInput",
        "attachmentLayout": "list",
        "attachments": [HERO_WIRE],
    }


def test_list() -> None:
    activity = MessageFactory.list([HERO, THUMB], speak="Two things", input_hint=None)
    assert activity.to_dict() == {
        "type": "message",
        "speak": "Two things",
        "attachmentLayout": "list",
        "attachments": [HERO_WIRE, THUMB_WIRE],
    }


def test_carousel() -> None:
    assert MessageFactory.carousel([HERO, HERO], "Swipe").to_dict() == {
        "type": "message",
        "text": "Swipe",
        "inputHint": "acceptingInput",
        "attachmentLayout": "carousel",
        "attachments": [HERO_WIRE, HERO_WIRE],
    }


def test_carousel_copies_the_attachment_list() -> None:
    attachments = [HERO]
    activity = MessageFactory.carousel(attachments)
    attachments.append(THUMB)
    assert activity.attachments == [HERO]


def test_content_url() -> None:
    activity = MessageFactory.content_url("https://x/a.jpg", "image/jpeg", "Trip", "A photo")
    assert activity.to_dict() == {
        "type": "message",
        "text": "A photo",
        "inputHint": "acceptingInput",
        "attachmentLayout": "list",
        "attachments": [
            {"contentType": "image/jpeg", "contentUrl": "https://x/a.jpg", "name": "Trip"}
        ],
    }


def test_content_url_without_name() -> None:
    activity = MessageFactory.content_url("https://x/a.mp4", "video/mp4")
    assert activity.attachments == [
        Attachment(content_type="video/mp4", content_url="https://x/a.mp4")
    ]


def test_empty_text_and_speak_are_left_out() -> None:
    activity = MessageFactory.attachment(THUMB, text="", speak="")
    assert "text" not in activity.to_dict()
    assert "speak" not in activity.to_dict()


def test_factory_output_round_trips() -> None:
    wire = MessageFactory.suggested_actions(["a"], "t").to_dict()
    assert Activity.from_dict(wire).to_dict() == wire
    wire = MessageFactory.carousel([HERO, THUMB], "t").to_dict()
    assert Activity.from_dict(wire).to_dict() == wire
