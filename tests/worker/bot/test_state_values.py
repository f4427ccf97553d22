"""What a bot keeps in state comes back as the same types, through the real Redis storage; what
cannot be kept faithfully is refused at save time, naming where it is (issue 20: an Enum was
saved as {} and a dialog's object came back as a dict)."""

from __future__ import annotations

import datetime
import enum
import sys
import threading
import uuid
from collections import namedtuple
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from shared.redis.connection import Redis
from shared.schema.activity import Activity
from shared.settings import Settings
from tests.support.activities import message
from tests.worker.bot.test_turn_context import RecordingSender
from worker.bot.redis_storage import RedisStorage
from worker.bot.state import ConversationState, UserState
from worker.bot.state_values import from_stored, to_stored
from worker.bot.storage import ETAG, MemoryStorage, StorageError
from worker.bot.turn_context import TurnContext


class Question(enum.Enum):
    NAME = "name"
    AGE = "age"


class Level(enum.IntEnum):
    LOW = 1


@dataclass
class Address:
    city: str
    since: datetime.date


@dataclass
class Flow:
    last_question_asked: Question = Question.NAME
    asked_at: datetime.datetime | None = None
    addresses: list[Address] = field(default_factory=list)


class UserProfile:  # a plain attribute class, as the SDK samples write them
    def __init__(self) -> None:
        self.name: str | None = None
        self.transport: str | None = None
        self._private = "kept too"


Point = namedtuple("Point", "x y")


def turn() -> TurnContext:
    activity = Activity.from_dict(message("hi", conversation="c-1", user="u-1"))
    return TurnContext(RecordingSender(), activity)


@pytest.fixture
async def storage(redis: Redis, settings: Settings) -> RedisStorage:
    return RedisStorage(redis, key_prefix=settings.key_prefix)


async def test_the_bots_own_types_come_back_as_themselves(storage: RedisStorage) -> None:
    state = ConversationState(storage)
    flow, values = state.create_property("flow"), state.create_property("values")
    context = turn()
    kept = await flow.get(context, Flow)
    kept.last_question_asked = Question.AGE
    kept.asked_at = datetime.datetime(2026, 12, 7, 15, 4, 5, 123456, tzinfo=datetime.UTC)
    kept.addresses.append(Address("Lyon", datetime.date(2020, 1, 31)))
    profile = UserProfile()
    profile.name = "Ada"
    everything: dict[str, Any] = {
        "user_info": profile,  # a waterfall step's values, as the SDK samples keep them
        "level": Level.LOW,
        "point": Point(1, 2),
        "pair": (1, "a"),
        "tags": {"x", "y"},
        "frozen": frozenset({3}),
        "by_number": {1: "one", 2: "two"},
        "looks_tagged": {"$type": "mine", "$value": 1},
        "wait": datetime.timedelta(days=1, seconds=2, microseconds=3),
        "price": Decimal("9.99"),
        "id": uuid.UUID(int=7),
        "blob": b"\x00\x01",
        "time": datetime.time(9, 30),
    }
    await values.set(context, everything)
    await state.save_changes(context)

    again = turn()
    flow_back = await flow.get(again)
    assert flow_back == kept and isinstance(flow_back.last_question_asked, Question)
    assert flow_back.asked_at is not None and flow_back.asked_at.tzinfo is not None
    values_back = await values.get(again)
    user_info = values_back.pop("user_info")
    assert isinstance(user_info, UserProfile)
    assert vars(user_info) == {"name": "Ada", "transport": None, "_private": "kept too"}
    everything.pop("user_info")
    assert values_back == everything
    assert {k: type(v) for k, v in values_back.items()} == {
        k: type(v) for k, v in everything.items()
    }


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (lambda: None, "UserState.profile.callback"),
        (threading.Lock(), "UserState.profile.callback"),
        (object(), "UserState.profile.callback"),
    ],
)
async def test_what_cannot_be_kept_is_refused_at_save_naming_where(
    storage: RedisStorage, value: object, where: str
) -> None:
    state = UserState(storage)
    profile = state.create_property("profile")
    context = turn()
    await profile.set(context, {"name": "Ada", "callback": value})
    with pytest.raises(StorageError, match=f"at {where}"):
        await state.save_changes(context)
    assert await storage.read(["test/users/u-1"]) == {}  # nothing stored instead


async def test_a_class_defined_in_a_function_is_refused(storage: RedisStorage) -> None:
    class Local:
        pass

    state = UserState(storage)
    context = turn()
    await state.create_property("it").set(context, Local())
    with pytest.raises(StorageError, match="top level of a module"):
        await state.save_changes(context)


def test_stored_data_never_imports_a_module() -> None:
    stored = {"$type": "object", "$class": "no_such_module_xyz:Thing", "$value": {}}
    with pytest.raises(StorageError, match="no such class imported"):
        from_stored(stored)
    assert "no_such_module_xyz" not in sys.modules
    # a class that exists, but in a module nobody imported: not imported either
    with pytest.raises(StorageError):
        from_stored({"$type": "object", "$class": "antigravity:X", "$value": {}})
    assert "antigravity" not in sys.modules


async def test_state_stored_as_plain_dicts_before_still_reads() -> None:
    storage = MemoryStorage()
    await storage.write({"test/users/u-1": {"profile": {"name": "Ann", "transport": "bus"}}})
    state = UserState(storage)
    profile = await state.create_property("profile").get(turn(), UserProfile)
    assert isinstance(profile, UserProfile) and profile.name == "Ann"


def test_plain_data_is_stored_as_it_is() -> None:
    plain = {"a": [1, 2.5, "x", None, True, b"b", {"c": {}}]}
    assert to_stored(plain) == plain
    assert from_stored(plain) == plain
    assert to_stored({ETAG: "e"}) == {ETAG: "e"}
