"""Reading @mentions and removing their markup from the text (pure logic)."""

from __future__ import annotations

from typing import Any

from shared.schema.activity import Activity, ChannelAccount, Entity, Mention
from tests.support.activities import message
from worker.bot.mentions import get_mentions, remove_mention_text, remove_recipient_mention


def mention(account_id: str, name: str, text: str | None = None) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": "mention", "mentioned": {"id": account_id, "name": name}}
    entity["text"] = f"<at>{name}</at>" if text is None else text
    return entity


def inbound(text: str, *entities: dict[str, Any]) -> Activity:
    # tests.support.activities.message addresses the activity to the bot "bot-1".
    wire = message(text)
    if entities:
        wire["entities"] = list(entities)
    return Activity.from_dict(wire)


def test_get_mentions_reads_only_mention_entities() -> None:
    activity = inbound(
        "<at>Bot</at> ask <at>Ann</at>",
        mention("bot-1", "Bot"),
        {"type": "clientInfo", "locale": "en-US"},
        mention("u-2", "Ann"),
    )
    assert get_mentions(activity) == [
        Mention(mentioned=ChannelAccount(id="bot-1", name="Bot"), text="<at>Bot</at>"),
        Mention(mentioned=ChannelAccount(id="u-2", name="Ann"), text="<at>Ann</at>"),
    ]


def test_get_mentions_accepts_any_case_mention_objects_and_dicts() -> None:
    typed = Mention(mentioned=ChannelAccount(id="a"), text="<at>A</at>")
    activity = Activity(
        entities=[
            Entity(type="Mention", additional_properties={"mentioned": {"id": "b"}}),
            typed,
        ]
    )
    # A bot may have put wire dicts in the list; they serialize the same, so read them too.
    activity.entities.append({"type": "mention", "text": "<at>C</at>"})  # type: ignore[union-attr, arg-type]
    mentions = get_mentions(activity)
    assert [m.mentioned.id if m.mentioned else None for m in mentions] == ["b", "a", None]
    assert mentions[1] is typed


def test_get_mentions_without_entities() -> None:
    assert get_mentions(inbound("hi")) == []


def test_remove_recipient_mention() -> None:
    activity = inbound("<at>Bot</at> help me", mention("bot-1", "Bot"))
    assert remove_recipient_mention(activity) == "help me"
    assert activity.text == "help me"


def test_removes_every_mention_of_the_id_and_keeps_other_users() -> None:
    activity = inbound(
        "<at>Bot</at> tell <at>Ann</at> hi, <at>Bot</at>",
        mention("bot-1", "Bot"),
        mention("u-2", "Ann"),
        mention("bot-1", "Bot"),
    )
    assert remove_recipient_mention(activity) == "tell <at>Ann</at> hi,"
    assert remove_mention_text(activity, "u-2") == "tell  hi,"
    assert activity.text == "tell  hi,"


def test_matches_tags_with_attributes_and_regex_characters() -> None:
    name = "Test (*.[]$%#^&?)"
    activity = inbound(f'<AT id="0">{name}</AT> go', mention("bot-1", name))
    assert remove_recipient_mention(activity) == "go"


def test_mention_without_text_falls_back_to_the_account_name() -> None:
    entity = mention("bot-1", "Custom Agent")
    del entity["text"]
    activity = inbound("<at>Custom Agent</at> Hallo", entity)
    assert remove_recipient_mention(activity) == "Hallo"


def test_text_without_the_mention_is_unchanged() -> None:
    # Not stripped either: only a removal tidies the whitespace it leaves.
    activity = inbound("  hello there ", mention("bot-1", "Bot"))
    assert remove_recipient_mention(activity) == "  hello there "
    assert activity.text == "  hello there "


def test_other_users_mention_is_kept() -> None:
    activity = inbound("<at>Ann</at> hi", mention("u-2", "Ann"))
    assert remove_recipient_mention(activity) == "<at>Ann</at> hi"


def test_activity_without_entities() -> None:
    activity = inbound("<at>Bot</at> hi")
    assert remove_recipient_mention(activity) == "<at>Bot</at> hi"
    assert activity.entities is None


def test_activity_without_text_or_recipient() -> None:
    activity = Activity(type="event", entities=[Entity(type="mention")])
    assert remove_mention_text(activity, "bot-1") == ""
    assert activity.text is None
    assert remove_recipient_mention(Activity(text="hi")) == "hi"


def test_entities_round_trip_after_removal() -> None:
    entities = [mention("bot-1", "Bot"), {"type": "geoCoordinates", "latitude": 1.5}]
    activity = inbound("<at>Bot</at> hi", *entities)
    remove_recipient_mention(activity)
    assert activity.to_dict()["entities"] == entities
