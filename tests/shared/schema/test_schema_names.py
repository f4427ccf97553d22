"""The rest of botbuilder-schema's names: constants with botbuilder's values and spellings,
token and other models with the Bot Framework's wire names, decoded back as themselves."""

from __future__ import annotations

import pytest

from shared.schema.activity import Activity, ConversationReference, MessageReaction, Model
from shared.schema.constants import (
    CallerIdConstants,
    DeliveryModes,
    EndOfConversationCodes,
    RoleTypes,
    SignInConstants,
)
from shared.schema.parts import (
    AttachmentInfo,
    AttachmentView,
    ConversationMembers,
    ConversationsResult,
    ExpectedReplies,
    GeoCoordinates,
)
from shared.schema.tokens import TokenExchangeInvokeRequest, TokenExchangeState, TokenResponse


def test_constants_have_botbuilders_values_and_spellings() -> None:
    assert DeliveryModes.expect_replies == DeliveryModes.EXPECT_REPLIES == "expectReplies"
    assert EndOfConversationCodes.user_cancelled == "userCancelled"
    assert RoleTypes.skill == "skill"
    assert CallerIdConstants.bot_to_bot_prefix == "urn:botframework:aadappid:"
    assert SignInConstants.token_exchange_operation_name == "signin/tokenExchange"
    assert SignInConstants.token_response_event_name == "tokens/response"


@pytest.mark.parametrize(
    ("model", "wire"),
    [
        (
            TokenResponse(connection_name="graph", token="t", expiration="2026-12-08T00:00:00Z"),
            {"connectionName": "graph", "token": "t", "expiration": "2026-12-08T00:00:00Z"},
        ),
        (
            TokenExchangeInvokeRequest(id="x", connection_name="graph", token="t"),
            {"id": "x", "connectionName": "graph", "token": "t"},
        ),
        (
            TokenExchangeState(
                connection_name="graph",
                conversation=ConversationReference(channel_id="msteams"),
                bot_url="https://bot.example/api/messages",
                ms_app_id="app",
            ),
            {
                "connectionName": "graph",
                "conversation": {"channelId": "msteams"},
                "botUrl": "https://bot.example/api/messages",
                "msAppId": "app",
            },
        ),
        (
            ConversationsResult(
                continuation_token="next",
                conversations=[ConversationMembers(id="c1", members=[])],
            ),
            {"continuationToken": "next", "conversations": [{"id": "c1", "members": []}]},
        ),
        (
            AttachmentInfo(name="a.png", type="image/png", views=[AttachmentView("original", 9)]),
            {"name": "a.png", "type": "image/png", "views": [{"viewId": "original", "size": 9}]},
        ),
        (GeoCoordinates(latitude=45.76, longitude=4.83), {"latitude": 45.76, "longitude": 4.83}),
        (MessageReaction(type="like"), {"type": "like"}),
        (
            ExpectedReplies(activities=[Activity(type="message", text="hi")]),
            {"activities": [{"type": "message", "text": "hi"}]},
        ),
    ],
)
def test_models_go_out_with_the_wire_names_and_come_back(model: Model, wire: object) -> None:
    assert model.to_dict() == wire
    assert type(model).from_dict(model.to_dict()) == model
