from __future__ import annotations

from shared.activity import Activity, ChannelAccount
from tests.activities import message


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
        "channelId": "test",
        "locale": "en-US",
    }
