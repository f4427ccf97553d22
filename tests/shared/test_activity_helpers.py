"""botbuilder's helpers on `Activity`: typed views (`as_message_activity`…), factories
(`create_event_activity`…), replies and traces, conversation references, content checks; and
reactions as `MessageReaction` objects that go back on the wire as they came."""

from __future__ import annotations

import pytest

from shared.schema.activity import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    Mention,
    MessageReaction,
    ResourceResponse,
    TextHighlight,
)


def inbound() -> Activity:
    return Activity(
        type=ActivityTypes.MESSAGE,
        id="m1",
        channel_id="msteams",
        service_url="https://smba.example/teams/",
        locale="fr-FR",
        conversation=ConversationAccount(id="c1", is_group=True),
        from_property=ChannelAccount(id="u1", name="Ann"),
        recipient=ChannelAccount(id="b1", name="Bot"),
    )


@pytest.mark.parametrize(
    ("view", "activity_type"),
    [
        ("as_message_activity", ActivityTypes.MESSAGE),
        ("as_contact_relation_update_activity", ActivityTypes.CONTACT_RELATION_UPDATE),
        ("as_conversation_update_activity", ActivityTypes.CONVERSATION_UPDATE),
        ("as_end_of_conversation_activity", ActivityTypes.END_OF_CONVERSATION),
        ("as_event_activity", ActivityTypes.EVENT),
        ("as_handoff_activity", ActivityTypes.HANDOFF),
        ("as_installation_update_activity", ActivityTypes.INSTALLATION_UPDATE),
        ("as_invoke_activity", ActivityTypes.INVOKE),
        ("as_message_delete_activity", ActivityTypes.MESSAGE_DELETE),
        ("as_message_reaction_activity", ActivityTypes.MESSAGE_REACTION),
        ("as_message_update_activity", ActivityTypes.MESSAGE_UPDATE),
        ("as_suggestion_activity", ActivityTypes.SUGGESTION),
        ("as_trace_activity", ActivityTypes.TRACE),
        ("as_typing_activity", ActivityTypes.TYPING),
    ],
)
def test_a_typed_view_is_the_activity_itself_or_none(view: str, activity_type: str) -> None:
    same = Activity(type=activity_type)
    assert getattr(same, view)() is same
    assert getattr(Activity(type=activity_type.upper()), view)() is not None
    assert getattr(Activity(type=f"{activity_type}/subtype"), view)() is not None
    other = ActivityTypes.TYPING if activity_type != ActivityTypes.TYPING else "message"
    assert getattr(Activity(type=other), view)() is None
    assert getattr(Activity(type=f"{activity_type}x"), view)() is None
    assert getattr(Activity(), view)() is None


def test_factories_make_activities_of_their_type() -> None:
    assert Activity.create_message_activity().type == "message"
    assert Activity.create_event_activity().type == "event"
    assert Activity.create_invoke_activity().type == "invoke"
    assert Activity.create_typing_activity().type == "typing"
    assert Activity.create_handoff_activity().type == "handoff"
    assert Activity.create_end_of_conversation_activity().type == "endOfConversation"
    assert Activity.create_conversation_update_activity().type == "conversationUpdate"
    assert Activity.create_contact_relation_update_activity().type == "contactRelationUpdate"


def test_a_reply_answers_the_sender_in_the_locale_asked_for() -> None:
    reply = inbound().create_reply("bonjour", locale="fr-CA")
    assert (reply.type, reply.text, reply.locale) == ("message", "bonjour", "fr-CA")
    assert reply.recipient is not None and reply.recipient.id == "u1"
    assert reply.from_property is not None and reply.from_property.id == "b1"
    assert (reply.reply_to_id, reply.service_url) == ("m1", "https://smba.example/teams/")
    plain = inbound().create_reply()
    assert (plain.text, plain.locale) == ("", "fr-FR")


def test_a_trace_is_addressed_back_and_names_its_value_type() -> None:
    trace = inbound().create_trace("lookup", {"hits": 2}, label="search")
    assert (trace.type, trace.name, trace.label) == ("trace", "lookup", "search")
    assert trace.value == {"hits": 2} and trace.value_type == "dict"
    assert trace.recipient is not None and trace.recipient.id == "u1"
    assert trace.to_dict()["valueType"] == "dict"  # a name the wire can carry
    lonely = Activity(conversation=ConversationAccount(id="c")).create_trace("t")
    assert lonely.from_property is not None and lonely.from_property.id is None
    assert lonely.value_type is None
    loose = Activity.create_trace_activity("t", "v", "text/plain")
    assert (loose.type, loose.value_type, loose.recipient) == ("trace", "text/plain", None)


def test_references_carry_the_addressing_and_the_reply_id() -> None:
    activity = inbound()
    reference = activity.get_conversation_reference()
    assert (reference.activity_id, reference.channel_id, reference.locale) == (
        "m1",
        "msteams",
        "fr-FR",
    )
    assert reference.user is activity.from_property and reference.bot is activity.recipient
    reply = activity.get_reply_conversation_reference(ResourceResponse(id="r9"))
    assert reply.activity_id == "r9" and reply.conversation is activity.conversation


def test_applying_a_reference_addresses_outgoing_or_incoming() -> None:
    reference = inbound().get_conversation_reference()
    outgoing = Activity(type="message", locale="en-US").apply_conversation_reference(reference)
    assert outgoing.from_property is reference.bot and outgoing.recipient is reference.user
    assert (outgoing.reply_to_id, outgoing.id, outgoing.locale) == ("m1", None, "fr-FR")
    incoming = Activity(type="message").apply_conversation_reference(reference, is_incoming=True)
    assert incoming.from_property is reference.user and incoming.id == "m1"
    bare = ConversationReference(channel_id="test")
    kept = Activity(locale="de", reply_to_id="x").apply_conversation_reference(bare)
    assert (kept.locale, kept.reply_to_id) == ("de", "x")


def test_content_and_mentions() -> None:
    assert not Activity().has_content()
    assert not Activity(text="  ").has_content()
    assert Activity(text="hi").has_content()
    assert Activity(summary="s").has_content()
    assert Activity(attachments=[Attachment(content_type="x")]).has_content()
    assert Activity(channel_data={"a": 1}).has_content()
    entities = [Entity(type="mention"), Entity(type="clientInfo"), Entity(type="Mention")]
    assert [e.type for e in Activity(entities=entities).get_mentions()] == ["mention", "Mention"]
    assert Activity().get_mentions() == []
    assert not inbound().is_from_streaming_connection()
    assert Activity(service_url="urn:botframework:namedpipe").is_from_streaming_connection()


def test_reactions_are_message_reactions_and_round_trip_exactly() -> None:
    wire = {
        "type": "messageReaction",
        "reactionsAdded": [{"type": "like", "createdDateTime": "2026-01-02T03:04:05Z"}],
        "reactionsRemoved": [{"type": "heart"}],
    }
    activity = Activity.from_dict(wire)
    assert activity.reactions_added == [
        MessageReaction(
            type="like", additional_properties={"createdDateTime": "2026-01-02T03:04:05Z"}
        )
    ]
    assert activity.reactions_removed is not None
    assert activity.reactions_removed[0].type == "heart"
    assert activity.to_dict() == wire


def test_text_highlights_and_semantic_actions_are_typed_and_round_trip_exactly() -> None:
    wire = {
        "type": "message",
        "textHighlights": [{"text": "Seattle", "occurrence": 1}],
        "semanticAction": {"id": "book", "state": "start", "entities": {"city": {"x": 1}}},
    }
    activity = Activity.from_dict(wire)
    assert activity.text_highlights == [TextHighlight(text="Seattle", occurrence=1)]
    assert activity.semantic_action is not None and activity.semantic_action.id == "book"
    assert activity.to_dict() == wire


def test_serialize_and_deserialize_are_the_wire_form_as_in_msrest() -> None:
    mention = Mention(text="<at>Bot</at>", mentioned=ChannelAccount(id="b1", name="Bot"))
    wire = mention.serialize()
    assert wire == mention.to_dict() and wire["mentioned"] == {"id": "b1", "name": "Bot"}
    entity = Entity().deserialize(wire)
    assert type(entity) is Entity and entity.type == "mention"
    assert entity.additional_properties["text"] == "<at>Bot</at>"
    assert Activity.deserialize({"type": "message", "replyToId": "x"}).reply_to_id == "x"


def test_accounts_carry_their_properties() -> None:
    wire = {"id": "u1", "properties": {"tier": "gold"}}
    assert ChannelAccount.from_dict(wire).properties == {"tier": "gold"}
    assert ConversationAccount.from_dict(wire).to_dict() == wire
