from __future__ import annotations

import datetime

from shared.schema.activity import (
    Activity,
    AttachmentData,
    CardAction,
    CardImage,
    ChannelAccount,
    ConversationParameters,
    Entity,
    ErrorResponse,
    HeroCard,
    Mention,
    PagedMembersResult,
    SuggestedActions,
    ThumbnailCard,
)
from tests.support.activities import message


def test_wire_round_trip_keeps_unknown_fields() -> None:
    wire = {
        **message("hi"),
        "membersAdded": [{"id": "u2", "name": "Ann", "x-custom": 1}],
        "channelData": {"tenant": {"id": "t"}},
        "entities": [{"type": "mention"}],
        "someFutureField": [1, 2],
    }
    activity = Activity.from_dict(wire)
    assert activity.from_property == ChannelAccount(id="user-1", name="user-1 name")
    assert activity.members_added is not None
    assert activity.members_added[0].additional_properties == {"x-custom": 1}
    assert activity.additional_properties == {"someFutureField": [1, 2]}
    assert activity.to_dict() == wire


def test_create_reply_swaps_the_parties() -> None:
    reply = Activity.from_dict(message("hi", activity_id="a1")).create_reply("yo")
    assert reply.to_dict() == {
        "type": "message",
        "text": "yo",
        "from": {"id": "bot-1", "name": "Bot"},
        "recipient": {"id": "user-1", "name": "user-1 name"},
        "conversation": {"id": "conv-1"},
        "replyToId": "a1",
        "serviceUrl": "http://127.0.0.1:9/",
        "channelId": "test",
        "locale": "en-US",
    }


def test_suggested_actions_and_entities_are_typed_and_round_trip() -> None:
    wire = {
        **message("pick"),
        "suggestedActions": {
            "to": ["user-1"],
            "actions": [{"type": "imBack", "title": "Red", "value": "red", "x-a": 1}],
        },
        "entities": [
            {
                "type": "mention",
                "mentioned": {"id": "bot-1", "name": "Bot"},
                "text": "<at>Bot</at>",
            },
            {"type": "clientInfo", "locale": "en-US", "country": "US"},
            {"type": "https://schema.org/Place", "geo": {"latitude": 1.5}},
        ],
    }
    activity = Activity.from_dict(wire)
    assert activity.suggested_actions == SuggestedActions(
        to=["user-1"],
        actions=[
            CardAction(type="imBack", title="Red", value="red", additional_properties={"x-a": 1})
        ],
    )
    assert activity.entities is not None
    assert activity.entities[1] == Entity(
        type="clientInfo", additional_properties={"locale": "en-US", "country": "US"}
    )
    assert activity.to_dict() == wire


def test_mention_round_trip() -> None:
    wire = {
        "type": "mention",
        "mentioned": {"id": "u-2", "name": "Ann", "role": "user"},
        "text": "<at>Ann</at>",
        "x-extra": True,
    }
    mention = Mention.from_dict(wire)
    assert mention.mentioned == ChannelAccount(id="u-2", name="Ann", role="user")
    assert mention.text == "<at>Ann</at>"
    assert mention.additional_properties == {"x-extra": True}
    assert mention.to_dict() == wire
    assert Mention(mentioned=ChannelAccount(id="u-2")).to_dict() == {
        "type": "mention",
        "mentioned": {"id": "u-2"},
    }


def test_card_models_round_trip() -> None:
    action = {"type": "openUrl", "title": "Go", "value": "https://x", "imageAltText": "go"}
    image = {"url": "https://x/a.png", "alt": "a", "tap": action}
    card = {"title": "T", "subtitle": "S", "text": "x", "images": [image], "buttons": [action]}
    assert CardAction.from_dict(action).to_dict() == action
    assert CardAction.from_dict(action).image_alt_text == "go"
    assert CardImage.from_dict(image).tap == CardAction.from_dict(action)
    assert CardImage.from_dict(image).to_dict() == image
    for model in (HeroCard, ThumbnailCard):
        parsed = model.from_dict({**card, "tap": action})
        assert parsed.images == [CardImage.from_dict(image)]
        assert parsed.to_dict() == {**card, "tap": action}
    suggested = {"actions": [action]}
    assert SuggestedActions.from_dict(suggested).to_dict() == suggested


def test_a_bot_may_put_mention_objects_in_entities() -> None:
    activity = Activity(
        type="message",
        text="hi <at>Ann</at>",
        entities=[Mention(mentioned=ChannelAccount(id="u-2", name="Ann"), text="<at>Ann</at>")],
    )
    assert activity.to_dict()["entities"] == [
        {"type": "mention", "mentioned": {"id": "u-2", "name": "Ann"}, "text": "<at>Ann</at>"}
    ]


def test_connector_bodies_round_trip_with_nested_models() -> None:
    wire = {
        "isGroup": True,
        "bot": {"id": "28:bot"},
        "members": [{"id": "29:a", "email": "a@example.test"}],
        "topicName": "standup",
        "tenantId": "t1",
        "activity": {"type": "message", "text": "hi", "textFormat": "plain"},
        "channelData": {"channel": {"id": "19:c@thread.tacv2"}},
    }
    parameters = ConversationParameters.from_dict(wire)
    assert isinstance(parameters.activity, Activity) and parameters.activity.text == "hi"
    assert parameters.members == [
        ChannelAccount(id="29:a", additional_properties={"email": "a@example.test"})
    ]
    assert parameters.to_dict() == wire
    page = PagedMembersResult.from_dict({"continuationToken": "n", "members": [{"id": "x"}]})
    assert page == PagedMembersResult(continuation_token="n", members=[ChannelAccount(id="x")])
    error = ErrorResponse.from_dict(
        {"error": {"code": "BadArgument", "innerHttpError": {"statusCode": 400, "body": "no"}}}
    )
    assert error.error is not None and error.error.inner_http_error is not None
    assert error.error.inner_http_error.status_code == 400


def test_attachment_data_from_bytes() -> None:
    data = AttachmentData.from_bytes("text/plain", "a.txt", b"hi")
    assert data.to_dict() == {"type": "text/plain", "name": "a.txt", "originalBase64": "aGk="}


def test_times_are_datetimes_and_go_back_on_the_wire_as_received() -> None:
    wire = {
        "type": "message",
        "timestamp": "2026-11-21T06:35:12.3456789Z",  # seven digits and Z, as channels send
        "localTimestamp": "2026-11-21T07:35:12.3456789+01:00",
        "expiration": "2026-11-22T00:00:00Z",
    }
    activity = Activity.from_dict(wire)
    assert isinstance(activity.timestamp, datetime.datetime)
    assert activity.timestamp == datetime.datetime(
        2026, 11, 21, 6, 35, 12, 345678, tzinfo=datetime.UTC
    )
    assert isinstance(activity.local_timestamp, datetime.datetime)
    assert activity.local_timestamp.utcoffset() == datetime.timedelta(hours=1)
    assert activity.to_dict() == wire  # exactly as received
    # A time computed from it is written as itself, not as the text it was computed from.
    activity.timestamp += datetime.timedelta(seconds=1)
    assert activity.to_dict()["timestamp"] == "2026-11-21T06:35:13.345678Z"


def test_a_time_set_by_the_bot_is_written_as_iso_8601_with_z() -> None:
    activity = Activity(
        type="message", timestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    )
    assert activity.to_dict()["timestamp"] == "2026-01-02T03:04:05Z"


def test_a_malformed_time_stays_text_and_fails_nothing() -> None:
    activity = Activity.from_dict({"type": "message", "timestamp": "yesterday-ish"})
    assert activity.timestamp == "yesterday-ish"
    assert activity.to_dict()["timestamp"] == "yesterday-ish"
