"""The contract every `Storage` backend passes (Agents' `CRUDStorageTests`, with the stale-eTag
checks botbuilder-python comments out restored)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.redis.connection import connect
from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import ConversationState
from worker.bot.storage import (
    ETAG,
    IF_ABSENT,
    EtagConflict,
    MemoryStorage,
    Storage,
    StorageError,
    StoreItem,
)
from worker.bot.turn_context import TurnContext


@pytest.fixture(params=["memory", "redis"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    """Each backend in turn; the Redis one under the test's own key prefix."""
    if request.param == "memory":
        yield MemoryStorage()
        return
    # Only the Redis backend pulls in the server (a sync fixture: async ones cannot be requested
    # from inside a running fixture).
    settings: Settings = request.getfixturevalue("settings")
    client = connect(settings)
    yield RedisStorage(client, key_prefix=settings.key_prefix)
    await client.aclose()


def without_etag(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != ETAG}


async def test_read_of_missing_keys_is_empty(storage: Storage) -> None:
    assert await storage.read(["nope", "msteams/conversations/none"]) == {}
    assert await storage.read([]) == {}


async def test_write_then_read_returns_the_data_and_its_etag(storage: Storage) -> None:
    etags = await storage.write({"a": {"count": 1, "name": "x"}, "b": {"count": 2}})
    assert set(etags) == {"a", "b"}
    assert await storage.read(["a", "b", "missing"]) == {
        "a": {"count": 1, "name": "x", ETAG: etags["a"]},
        "b": {"count": 2, ETAG: etags["b"]},
    }


async def test_every_write_gives_a_new_etag(storage: Storage) -> None:
    first = await storage.write({"a": {"v": 1}, "b": {"v": 1}})
    second = await storage.write({"a": {"v": 1}})  # same data: still a new eTag
    third = await storage.write({"a": {"v": 2, ETAG: second["a"]}})
    seen = [first["a"], first["b"], second["a"], third["a"]]
    assert all(isinstance(etag, str) and etag for etag in seen)
    assert len(set(seen)) == len(seen)
    assert (await storage.read(["a"]))["a"][ETAG] == third["a"]


async def test_stale_etag_conflicts_and_changes_nothing(storage: Storage) -> None:
    key = "msteams/conversations/19:abc"
    first = (await storage.write({key: {"v": 1}}))[key]
    second = (await storage.write({key: {"v": 2, ETAG: first}}))[key]
    with pytest.raises(EtagConflict) as raised:
        await storage.write({key: {"v": 3, ETAG: first}})
    assert (raised.value.key, raised.value.expected, raised.value.actual) == (key, first, second)
    assert key in str(raised.value)
    assert isinstance(raised.value, StorageError)
    assert await storage.read([key]) == {key: {"v": 2, ETAG: second}}


@pytest.mark.parametrize("etag", ["*", None, "absent"])
async def test_star_or_no_etag_writes_unconditionally(storage: Storage, etag: str | None) -> None:
    def value(v: int) -> dict[str, Any]:
        return {"v": v} if etag == "absent" else {"v": v, ETAG: etag}

    created = (await storage.write({"k": value(1)}))["k"]  # creates
    replaced = (await storage.write({"k": value(2)}))["k"]  # overwrites whatever is stored
    assert created != replaced
    assert replaced not in ("*", None)
    assert await storage.read(["k"]) == {"k": {"v": 2, ETAG: replaced}}


async def test_concrete_etag_on_a_missing_key_conflicts(storage: Storage) -> None:
    with pytest.raises(EtagConflict) as raised:
        await storage.write({"ghost": {"v": 1, ETAG: "0123abcd"}})
    assert (raised.value.key, raised.value.expected, raised.value.actual) == (
        "ghost",
        "0123abcd",
        None,
    )
    assert await storage.read(["ghost"]) == {}


@pytest.mark.parametrize("stale_position", [0, 1, 2])
async def test_a_multi_key_write_with_one_stale_etag_writes_nothing(
    storage: Storage, stale_position: int
) -> None:
    before = await storage.write({"a": {"v": 1}, "b": {"v": 1}, "c": {"v": 1}})
    stale = (await storage.write({"b": {"v": 2, ETAG: before["b"]}}))["b"]
    current = {"a": before["a"], "b": stale, "c": before["c"]}
    changes: dict[str, dict[str, Any]] = {
        "a": {"v": 10, ETAG: current["a"]},
        "b": {"v": 10, ETAG: current["b"]},
        "c": {"v": 10, ETAG: current["c"]},
        "new": {"v": 10},
    }
    stale_key = "abc"[stale_position]
    changes[stale_key][ETAG] = before[stale_key] if stale_key == "b" else "not-the-etag"
    with pytest.raises(EtagConflict) as raised:
        await storage.write(changes)
    assert raised.value.key == stale_key
    assert await storage.read(["a", "b", "c", "new"]) == {
        "a": {"v": 1, ETAG: current["a"]},
        "b": {"v": 2, ETAG: current["b"]},
        "c": {"v": 1, ETAG: current["c"]},
    }


async def test_delete_removes_keys_and_ignores_missing_ones(storage: Storage) -> None:
    etags = await storage.write({"a": {"v": 1}, "b": {"v": 2}})
    await storage.delete(["a", "never-written"])
    await storage.delete([])
    assert await storage.read(["a", "b"]) == {"b": {"v": 2, ETAG: etags["b"]}}
    # A writer still holding the deleted item's eTag must not resurrect it unnoticed.
    with pytest.raises(EtagConflict):
        await storage.write({"a": {"v": 3, ETAG: etags["a"]}})
    await storage.delete(["a"])  # deleting twice is fine
    assert await storage.read(["a"]) == {}


async def test_mutating_what_was_read_or_written_does_not_change_the_store(
    storage: Storage,
) -> None:
    written: dict[str, Any] = {"list": [1, 2], "nested": {"x": 1}}
    etag = (await storage.write({"k": written}))["k"]
    written["list"].append(3)
    written["nested"]["x"] = 2
    written["new"] = True
    read = (await storage.read(["k"]))["k"]
    read["list"].append(99)
    read["nested"]["y"] = 1
    read[ETAG] = "tampered"
    assert await storage.read(["k"]) == {"k": {"list": [1, 2], "nested": {"x": 1}, ETAG: etag}}
    assert ETAG not in written  # write() never adds the eTag to the caller's dict


async def test_falsy_values_and_empty_items_round_trip(storage: Storage) -> None:
    data = {"zero": 0, "empty": "", "list": [], "map": {}, "false": False, "none": None, "f": 0.0}
    etags = await storage.write({"falsy": data, "empty-item": {}})
    assert await storage.read(["falsy", "empty-item"]) == {
        "falsy": {**data, ETAG: etags["falsy"]},
        "empty-item": {ETAG: etags["empty-item"]},
    }


async def test_nested_data_bytes_and_any_key_round_trip(storage: Storage) -> None:
    data: dict[str, Any] = {
        "DialogState": {
            "dialogStack": [{"id": "main", "state": {"stepIndex": 2, "values": {"n": [1, 2.5]}}}]
        },
        "blob": b"\x00\xff\x10bytes",
        "text": "ünïcødé 🙂 \n\t",
        "big": 2**63 - 1,
        "negative": -(2**63),
        "eTag-like": {ETAG: "nested eTags are just data"},
    }
    keys = [
        "msteams/conversations/19:abc@thread.tacv2/users/29:1xyz/",
        "crazy !@#$%^&*()_+{}[]|\\:;\"'<>,.?/~` key ünï 🙂",
        "",
    ]
    etags = await storage.write({key: data for key in keys})
    read = await storage.read(keys)
    assert read == {key: {**copy.deepcopy(data), ETAG: etags[key]} for key in keys}
    assert isinstance(read[keys[0]]["blob"], bytes)


@pytest.mark.parametrize(
    "bad",
    [object(), print, 2**64, {"deep": [1, {2: print}]}],
    ids=["object", "function", "too-big-int", "nested-function"],
)
async def test_a_value_that_cannot_be_stored_is_refused_and_nothing_is_written(
    storage: Storage, bad: object
) -> None:
    with pytest.raises(StorageError, match="'bad'") as raised:
        await storage.write({"good": {"v": 1}, "bad": {"v": bad}})
    assert not isinstance(raised.value, EtagConflict)
    assert await storage.read(["good", "bad"]) == {}


@pytest.mark.parametrize("etag", ["", 42])
async def test_an_invalid_etag_is_refused(storage: Storage, etag: object) -> None:
    with pytest.raises(StorageError, match="'k'"):
        await storage.write({"k": {"v": 1, ETAG: etag}})
    assert await storage.read(["k"]) == {}


async def test_concurrent_read_modify_write_loses_no_update(storage: Storage) -> None:
    await storage.write({"counter": {"count": 0}})
    conflicts = 0

    async def increment() -> None:
        nonlocal conflicts
        while True:
            item = (await storage.read(["counter"]))["counter"]
            await asyncio.sleep(0)  # the turn's own work: lets the other tasks read this eTag too
            item["count"] += 1
            try:
                await storage.write({"counter": item})
                return
            except EtagConflict:
                conflicts += 1

    async with asyncio.TaskGroup() as group:
        for _ in range(20):
            group.create_task(increment())
    item = (await storage.read(["counter"]))["counter"]
    assert without_etag(item) == {"count": 20}
    assert conflicts > 0  # the tasks really raced; without conflicts this test proves nothing


async def test_if_absent_creates_once_and_never_overwrites(storage: Storage) -> None:
    etags = await storage.write({"k": {"n": 1, ETAG: IF_ABSENT}})
    with pytest.raises(EtagConflict) as caught:
        await storage.write({"k": {"n": 2, ETAG: IF_ABSENT}})
    assert caught.value.actual == etags["k"]
    assert (await storage.read(["k"]))["k"] == {"n": 1, ETAG: etags["k"]}
    await storage.delete(["k"])
    await storage.write({"k": {"n": 3, ETAG: IF_ABSENT}})  # absent again: allowed
    assert (await storage.read(["k"]))["k"]["n"] == 3


class Counter(StoreItem):
    """A StoreItem subclass at a module's top level, as a bot declares one."""

    turns: int


async def test_objects_come_back_as_their_class_with_e_tag(storage: Storage) -> None:
    etags = await storage.write({"log": Counter(turns=1, e_tag="*"), "d": {"n": 1, ETAG: "*"}})
    read = await storage.read(["log", "d"])
    log = read["log"]
    assert isinstance(log, Counter) and (log.turns, log.e_tag) == (1, etags["log"])
    assert read["d"] == {"n": 1, ETAG: etags["d"]}
    log.turns += 1
    await storage.write({"log": log})
    with pytest.raises(EtagConflict):  # the eTag read with it still guards the object
        await storage.write({"log": log})
    assert (await storage.read(["log"]))["log"].turns == 2
    await storage.write({"n": 3, "words": ["a", "b"]})  # plain values are items too
    assert await storage.read(["n", "words"]) == {"n": 3, "words": ["a", "b"]}


async def test_no_keys_and_no_changes_are_nothing_to_do_but_none_changes_are_refused(
    storage: Storage,
) -> None:
    assert await storage.read(None) == {}  # type: ignore[arg-type]
    assert await storage.write([]) == {}  # type: ignore[arg-type]
    assert await storage.write({}) == {}
    await storage.delete([])
    with pytest.raises(StorageError, match="changes"):
        await storage.write(None)  # type: ignore[arg-type]


async def test_memory_storage_starts_with_the_items_given_and_shows_what_it_stores() -> None:
    given: dict[str, Any] = {"a": {"v": 1}, "b": Counter(turns=3), "c": {"v": 2, ETAG: "e-1"}}
    storage = MemoryStorage(given)
    read = await storage.read(["a", "b", "c"])
    assert read["a"]["v"] == 1 and read["b"].turns == 3
    assert read["c"] == {"v": 2, ETAG: "e-1"}
    given["a"]["v"] = 99  # a view of what is stored: changing it changes nothing stored
    assert (await storage.read(["a"]))["a"]["v"] == 1
    etags = await storage.write({"d": {"v": 4}})
    assert given["d"] == {"v": 4, ETAG: etags["d"]} and storage.memory is given
    await storage.delete(["a"])
    assert "a" not in given


class UntaggedStorage(MemoryStorage):
    """A storage written for botbuilder: `write` returns nothing."""

    async def write(self, changes: Any) -> Any:
        await super().write(changes)
        return None


async def test_state_saves_through_a_storage_that_returns_no_etags() -> None:
    storage = UntaggedStorage()
    state = ConversationState(storage)
    context = TurnContext(
        RecordingSender(), Activity.from_dict(message("hi", conversation="c", user="u"))
    )
    await state.create_property("n").set(context, 1)
    await state.save_changes(context)
    await state.create_property("n").set(context, 2)
    await state.save_changes(context)  # unconditional: no eTag came back to check against
    assert (await storage.read(["test/conversations/c"]))["test/conversations/c"]["n"] == 2
