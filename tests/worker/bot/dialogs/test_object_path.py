"""ObjectPath: values by path in dicts, lists and objects, and overlays (pure logic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from worker.bot.dialogs import ObjectPath


@dataclass
class Address:
    city: str | None = None
    zip: str | None = None


@dataclass
class Profile:
    name: str | None = None
    address: Address | None = None
    tags: dict[str, int] = field(default_factory=dict)


def test_paths_split_into_names_and_positions() -> None:
    assert ObjectPath.try_resolve_path({}, "user.items[2]['odd key'].x") == [
        "user",
        "items",
        2,
        "odd key",
        "x",
    ]


def test_set_creates_dicts_and_lists_on_the_way_and_get_reads_them_back() -> None:
    data: dict[str, Any] = {}
    ObjectPath.set_path_value(data, "order.lines[1].sku", "A-1")
    ObjectPath.set_path_value(data, "order.note", "gift")
    assert data == {"order": {"lines": [None, {"sku": "A-1"}], "note": "gift"}}
    assert ObjectPath.get_path_value(data, "order.lines[1].sku") == "A-1"
    assert ObjectPath.has_value(data, "order.note")
    assert not ObjectPath.has_value(data, "order.lines[0]")


def test_names_match_without_regard_to_case_in_dicts_and_objects() -> None:
    data = {"User": Profile(name="Ada", address=Address(city="Paris"))}
    assert ObjectPath.get_path_value(data, "user.ADDRESS.City") == "Paris"
    ObjectPath.set_path_value(data, "USER.Name", "Grace")
    assert data["User"].name == "Grace"


def test_a_missing_value_is_none_a_default_or_a_key_error() -> None:
    data = {"a": {"b": 1}}
    assert ObjectPath.try_get_path_value(data, "a.c") is None
    assert ObjectPath.try_get_path_value(data, "a.b[3]") is None
    assert ObjectPath.get_path_value(data, "a.c", 7) == 7
    assert ObjectPath.get_path_value(data, "a.c", lambda: [1]) == [1]
    with pytest.raises(KeyError, match=r"a\.c"):
        ObjectPath.get_path_value(data, "a.c")


def test_remove_a_key_an_attribute_or_a_list_item() -> None:
    data: dict[str, Any] = {"a": {"b": 1, "c": 2}, "items": ["x", "y"], "p": Profile(name="n")}
    ObjectPath.remove_path_value(data, "A.b")
    ObjectPath.remove_path_value(data, "items[0]")
    ObjectPath.remove_path_value(data, "p.name")
    ObjectPath.remove_path_value(data, "not.there")
    assert data["a"] == {"c": 2}
    assert data["items"] == [None, "y"]
    assert "name" not in vars(data["p"])


def test_assign_lays_the_overlays_values_over_a_copy() -> None:
    start = Profile(name="Ada", address=Address(city="Paris", zip="75001"), tags={"a": 1})
    overlay = Profile(address=Address(city="Lyon"), tags={"b": 2})
    result = ObjectPath.assign(start, overlay)
    assert result == Profile(
        name="Ada", address=Address(city="Lyon", zip="75001"), tags={"a": 1, "b": 2}
    )
    assert start.address is not None and start.address.city == "Paris"  # the start is untouched
    assert ObjectPath.assign({"x": 1, "y": {"z": 1}}, {"y": {"w": 2}}) == {
        "x": 1,
        "y": {"z": 1, "w": 2},
    }
    assert ObjectPath.assign(Profile(name="A"), {"name": "B"}).name == "B"


def test_assign_with_a_side_missing() -> None:
    only = Profile(name="A")
    assert ObjectPath.assign(None, only) == only and ObjectPath.assign(None, only) is not only
    assert ObjectPath.assign(only, None) == only
    assert ObjectPath.assign(None, None, Profile) == Profile()
    assert ObjectPath.assign(None, None) is None


def test_for_each_property() -> None:
    seen: list[tuple[str, Any]] = []
    ObjectPath.for_each_property(Address("Oslo"), lambda name, value: seen.append((name, value)))
    assert seen == [("city", "Oslo"), ("zip", None)]
