"""BotState, accessors and AutoSave over MemoryStorage (pure logic; the backends share a
contract suite against the real server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.protocol import codec
from shared.schema.activity import Activity
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.state import BotStateSet, ConversationState, PrivateConversationState, UserState
from worker.bot.state_middleware import AutoSaveStateMiddleware
from worker.bot.storage import (
    ETAG,
    EtagConflict,
    MemoryStorage,
    StorageError,
    StoreItem,
    encode_item,
)
from worker.bot.turn_context import TurnContext


class CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[list[str]] = []
        self.writes: list[list[str]] = []

    async def read(self, keys: Any) -> dict[str, StoreItem]:
        self.reads.append(list(keys))
        return await super().read(keys)

    async def write(self, changes: Any) -> dict[str, str]:
        self.writes.append(sorted(changes))
        return await super().write(changes)


def turn(conversation: str = "conv-1", user: str = "user-1") -> TurnContext:
    activity = Activity.from_dict(message("hi", conversation=conversation, user=user))
    return TurnContext(RecordingSender(), activity)


def test_storage_keys_follow_the_sdk() -> None:
    storage = MemoryStorage()
    context = turn("c1", "u1")
    assert ConversationState(storage).get_storage_key(context) == "test/conversations/c1"
    assert UserState(storage).get_storage_key(context) == "test/users/u1"
    assert (
        PrivateConversationState(storage).get_storage_key(context)
        == "test/conversations/c1/users/u1"
    )


async def test_falsy_values_and_defaults_are_kept() -> None:
    storage = MemoryStorage()
    state = ConversationState(storage)
    accessors = {name: state.create_property(name) for name in ("zero", "empty", "no", "list")}
    context = turn()
    assert await accessors["zero"].get(context, 0) == 0  # a falsy default is used, not None
    await accessors["empty"].set(context, "")
    await accessors["no"].set(context, False)
    assert await accessors["list"].get(context, lambda: []) == []
    await state.save_changes(context)

    later = turn()
    assert [await accessors[n].get(later, "default") for n in ("zero", "empty", "no", "list")] == [
        0,
        "",
        False,
        [],
    ]
    assert await state.create_property("missing").get(later) is None


async def test_a_default_value_is_copied_not_shared() -> None:
    state = UserState(MemoryStorage())
    default: dict[str, list[int]] = {"items": []}
    first = await state.create_property("p").get(turn(user="a"), default)
    first["items"].append(1)
    assert default == {"items": []}


class Profile:
    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.visits = 0


async def test_objects_are_stored_as_their_fields_and_rebuilt_as_the_named_class() -> None:
    storage = MemoryStorage()
    state = UserState(storage)
    profile_accessor = state.create_property("Profile")
    context = turn()
    profile = await profile_accessor.get(context, Profile)
    profile.name = "Ann"
    await state.save_changes(context)

    stored = (await storage.read(["test/users/user-1"]))["test/users/user-1"]
    assert isinstance(stored["Profile"], Profile)  # storage gives back the object too
    assert codec.unpack(encode_item("k", stored)) == {
        "Profile": {
            "$type": "object",
            "$class": f"{__name__}:Profile",
            "$value": {"name": "Ann", "visits": 0},
        }
    }
    again = await profile_accessor.get(turn(), Profile)
    assert isinstance(again, Profile) and (again.name, again.visits) == ("Ann", 0)
    untyped = await profile_accessor.get(turn())  # no default named: still the bot's class
    assert isinstance(untyped, Profile) and untyped.name == "Ann"


async def test_only_changed_state_is_written_and_everything_loads_in_one_read() -> None:
    storage = CountingStorage()
    conversation, user = ConversationState(storage), UserState(storage)
    middleware = AutoSaveStateMiddleware(conversation, user)
    context = turn()

    async def bot_logic() -> None:
        await conversation.create_property("seen").set(context, True)

    await middleware.on_turn(context, bot_logic)
    assert storage.reads == [["test/conversations/conv-1", "test/users/user-1"]]
    assert storage.writes == [["test/conversations/conv-1"]]

    quiet = turn()

    async def read_only() -> None:
        assert await conversation.create_property("seen").get(quiet) is True

    await middleware.on_turn(quiet, read_only)
    assert len(storage.reads) == 2 and len(storage.writes) == 1  # nothing changed: no write


async def test_one_shared_state_object_never_mixes_concurrent_turns() -> None:
    """The Agents SDK 1.9 bug: one ConversationState shared by two turns wrote B's data under
    A's key. Here each turn's data lives on its own TurnContext."""
    storage = MemoryStorage()
    state = ConversationState(storage)
    name = state.create_property("name")
    a, b = turn("A"), turn("B")
    await asyncio.gather(state.load(a), state.load(b))
    await name.set(a, "value-for-A")
    await name.set(b, "value-for-B")
    await state.save_changes(b)
    await state.save_changes(a)
    items = await storage.read(["test/conversations/A", "test/conversations/B"])
    assert items["test/conversations/A"]["name"] == "value-for-A"
    assert items["test/conversations/B"]["name"] == "value-for-B"


async def test_a_concurrent_save_is_a_conflict_not_a_lost_update() -> None:
    storage = MemoryStorage()
    state = UserState(storage)
    counter = state.create_property("count")
    first, second = turn("c1"), turn("c2")  # same user, two conversations at once
    assert (await counter.get(first, 0), await counter.get(second, 0)) == (0, 0)
    await counter.set(first, 1)
    await counter.set(second, 1)
    await state.save_changes(first)
    with pytest.raises(EtagConflict):  # both created it from nothing: only one may win
        await state.save_changes(second)
    third = turn("c3")
    await counter.set(third, await counter.get(third, 0) + 1)
    await state.save_changes(third)
    assert (await storage.read(["test/users/user-1"]))["test/users/user-1"]["count"] == 2


async def test_clear_and_delete() -> None:
    storage = MemoryStorage()
    state = ConversationState(storage)
    prop = state.create_property("p")
    context = turn()
    await prop.set(context, 1)
    await state.save_changes(context)

    cleared = turn()
    await state.clear_state(cleared)
    assert await prop.get(cleared) is None
    await state.save_changes(cleared)
    assert (await storage.read(["test/conversations/conv-1"]))["test/conversations/conv-1"] == {
        ETAG: state.get(cleared)[ETAG]
    }

    await prop.set(cleared, 2)
    await state.delete(cleared)
    assert await storage.read(["test/conversations/conv-1"]) == {}
    assert await prop.get(turn()) is None


async def test_force_saves_and_reloads() -> None:
    storage = CountingStorage()
    state = ConversationState(storage)
    context = turn()
    await state.load(context)
    await state.load(context)
    assert len(storage.reads) == 1
    await state.load(context, force=True)
    assert len(storage.reads) == 2
    await state.save_changes(context, force=True)
    assert len(storage.writes) == 1
    await BotStateSet(state).save_all_changes(context)
    assert len(storage.writes) == 1


async def test_new_state_reads_empty_and_carries_its_e_tag_once_saved() -> None:
    storage = MemoryStorage()
    state = PrivateConversationState(storage)
    context = turn()
    await state.load(context)
    assert state.get(context) == {}  # no marker of ours leaks into what the bot sees
    state.get(context)["n"] = 1
    await state.save_changes(context)
    etag = state.get(context)[ETAG]
    key = state.get_storage_key(context)
    assert (await storage.read([key]))[key] == {"n": 1, ETAG: etag}
    again = turn()
    await state.load(again)
    assert state.get(again) == {"n": 1, ETAG: etag}


class LoggingState(ConversationState):
    """A subclass with its own load and save, as botbuilder's tests and some bots write."""

    def __init__(self, storage: MemoryStorage) -> None:
        super().__init__(storage)
        self.calls: list[tuple[str, bool]] = []

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        self.calls.append(("load", force))
        await super().load(turn_context, force)

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        self.calls.append(("save", force))
        await super().save_changes(turn_context, force)


async def test_state_sets_take_lists_and_go_through_a_subclass_own_load_and_save() -> None:
    storage = CountingStorage()
    logging_state, user = LoggingState(storage), UserState(storage)
    states = BotStateSet([logging_state, user])
    assert states.bot_states == [logging_state, user]
    middleware = AutoSaveStateMiddleware([logging_state, user])
    assert middleware.bot_state_set.bot_states == [logging_state, user]
    context = turn()

    async def bot_logic() -> None:
        await logging_state.create_property("p").set(context, 1)
        await user.create_property("q").set(context, 2)

    await middleware.on_turn(context, bot_logic)
    # the set's load, the accessor's own load (as botbuilder's accessors do), the set's save
    assert logging_state.calls == [("load", False), ("load", False), ("save", False)]
    assert sorted(key for write in storage.writes for key in write) == [
        "test/conversations/conv-1",
        "test/users/user-1",
    ]
    await states.load_all(context, force=True)
    assert logging_state.calls[-1] == ("load", True)


async def test_state_stored_as_something_else_than_a_map_is_refused_not_overwritten() -> None:
    storage = MemoryStorage()
    state = ConversationState(storage)
    context = turn()
    await storage.write({state.get_storage_key(context): "not state"})
    with pytest.raises(StorageError, match="not a map"):
        await state.load(context)
