"""`Model.shallow_copy` stands in for `dataclasses.replace(model)` on the reply path: it must
make the same copy for every schema class."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from shared.schema import activity as schema
from shared.schema.activity import Activity, ChannelAccount, ConversationAccount, Model

MODELS = [
    cls
    for _, cls in inspect.getmembers(schema, inspect.isclass)
    if issubclass(cls, Model) and dataclasses.is_dataclass(cls)
]


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
def test_no_model_initialises_itself_beyond_its_fields(model: type[Model]) -> None:
    # What makes a __dict__ copy equal to dataclasses.replace: nothing computed in __init__.
    assert not hasattr(model, "__post_init__")
    assert all(f.init for f in dataclasses.fields(model))
    assert not hasattr(model, "__slots__") or "__dict__" in dir(model)


def test_a_shallow_copy_is_what_replace_makes() -> None:
    original = Activity(
        type="message",
        text="hi",
        from_property=ChannelAccount(id="u", name="User"),
        conversation=ConversationAccount(id="c"),
        additional_properties={"extra": 1},
    )
    copy = original.shallow_copy()
    assert copy == dataclasses.replace(original) and type(copy) is Activity
    assert copy is not original
    assert copy.from_property is original.from_property  # shallow, as replace is
    copy.text = "changed"
    assert original.text == "hi"


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
def test_from_dict_builds_what_the_constructor_builds(model: type[Model]) -> None:
    # from_dict fills most objects in directly, around __init__: the result must not differ.
    assert model.from_dict({}) == model()
    built = model.from_dict({"unknownField": [1, 2]})
    assert built == model(additional_properties={"unknownField": [1, 2]})
    assert type(built) is model
    assert built.to_dict() == model().to_dict() | {"unknownField": [1, 2]}
    built.additional_properties["x"] = 1
    assert model.from_dict({}).additional_properties == {}  # no dict shared between objects


def test_an_activity_survives_a_round_trip_through_the_wire_format() -> None:
    wire = {
        "type": "message",
        "id": "1",
        "from": {"id": "u", "name": "User", "role": "user"},
        "conversation": {"id": "c", "isGroup": True},
        "membersAdded": [{"id": "a"}, {"id": "b"}],
        "entities": [{"type": "mention", "text": "<at>bot</at>"}],
        "channelData": {"tenant": {"id": "t"}},
        "futureField": {"nested": True},
    }
    activity = Activity.from_dict(wire)
    assert activity.from_property == ChannelAccount(id="u", name="User", role="user")
    assert activity.members_added == [ChannelAccount(id="a"), ChannelAccount(id="b")]
    assert activity.to_dict() == wire
