"""Bot-state storage: the `Storage` protocol, `StoreItem`, its errors and the in-process
`MemoryStorage`.

The shape is botbuilder-python's (`read`, `write`, `delete` over string keys; an item is a dict
or an object such as a `StoreItem`, its eTag under `e_tag`), with the semantics its C# and JS
siblings document and the Python SDKs lost:

- `read` sets an item's eTag, `write` checks it and returns the new one, so optimistic
  concurrency works with any backend;
- a write of several keys is all-or-nothing;
- values are encoded with msgpack, objects of the bot's classes as tagged maps
  (`worker.bot.state_values`, never pickled), and every read returns a copy, so mutating what
  you read changes nothing until you write it.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeGuard, runtime_checkable

from shared.protocol import codec
from worker.bot.errors import StorageError as StorageError  # its home; used with Storage
from worker.bot.state_values import TYPE, VALUE, from_stored, to_stored
from worker.bot.turn_commit import TurnCommit

ETAG = "e_tag"
"""Where an item carries its eTag: the `"e_tag"` key of a dict, the `e_tag` attribute of an
object (botbuilder-python's name)."""

ANY_ETAG = "*"
"""An eTag that matches whatever is stored: the write is unconditional."""

IF_ABSENT = "<absent>"
"""An eTag that matches only a key that does not exist: create, but never overwrite. BotState
uses it for state it read as missing, so two turns creating the same state cannot both win."""

Changes = Mapping[str, Any]
"""What `write` takes: key → item, a dict of plain data or an object of the bot's own classes
(a `StoreItem`, a dataclass…), nested values as bot state allows them."""


class StoreItem:
    """An object to keep in storage: `StoreItem(counter=1)` has a `counter` attribute. Subclass
    it (at a module's top level) and storage gives back an object of your class, with `e_tag`
    set to its eTag."""

    e_tag: str | None

    def __init__(self, **attributes: Any) -> None:
        for name, value in attributes.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({shown})"


class EtagConflict(StorageError):
    """A write's eTag does not match the stored item's: someone else wrote it since it was read.

    Nothing of that write was stored. Re-read, re-apply the change and write again.
    """

    def __init__(self, key: str, expected: str, actual: str | None) -> None:
        stored = "the key does not exist" if actual is None else f"stored eTag is {actual!r}"
        super().__init__(f"eTag conflict writing {key!r}: expected {expected!r}, {stored}")
        self.key = key
        self.expected = expected
        self.actual = actual


class Storage(Protocol):
    """Where bot state lives between turns. Every method is one atomic step of the backend."""

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        """The items of `keys` that exist, each a fresh copy with its eTag set; others absent.
        No keys (or None): an empty dict."""
        ...

    async def write(self, changes: Changes) -> dict[str, str]:
        """Store every item of `changes` or none of them; return each key's new eTag. No
        changes (`{}`, `[]`): nothing to do; None: `StorageError`.

        An item's `e_tag` (not stored as data) decides: missing, None or `"*"` writes
        unconditionally; `IF_ABSENT` only if the key does not exist; any other value must equal
        the stored eTag. Otherwise `EtagConflict` (also when the key does not exist). A value
        that cannot be encoded raises `StorageError`.
        """
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`; keys that do not exist are ignored."""
        ...


@runtime_checkable
class TurnReader(Storage, Protocol):
    """A storage that can read a turn's state over the worker's own connections (RedisStorage
    on the worker's Redis): the same items as `read`, for less client CPU."""

    async def read_for_turn(self, keys: Sequence[str], commit: TurnCommit) -> dict[str, Any]:
        """`read`, through the turn's commit object; items decoded for this call alone (the
        caller may keep and change them: the turn's state loads them without a copy)."""
        ...


@runtime_checkable
class TurnStorage(Storage, Protocol):
    """A storage whose writes the turn's commit object can fence: each write of a turn runs in
    the runtime's script that checks the turn still owns its stream entry (RedisStorage).

    Any other storage is written after `TurnCommit.ensure_owned`: a check, not an atomic fence
    (docs/reliability.md)."""

    async def write_for_turn(
        self, changes: Changes, commit: TurnCommit, *, final: bool
    ) -> dict[str, str]:
        """`write`, fenced by the turn's entry; with `final`, also commit the turn (move its
        conversation on and acknowledge the entry) in the same atomic step."""
        ...

    async def delete_for_turn(self, keys: Sequence[str], commit: TurnCommit) -> None:
        """`delete`, fenced by the turn's entry."""
        ...


_KINDS: dict[tuple[type, type], bool] = {}


def is_turn_storage(storage: Storage) -> TypeGuard[TurnStorage]:
    """`isinstance(storage, TurnStorage)`, remembered per class (see `_is_kind`)."""
    return _is_kind(storage, TurnStorage)


def is_turn_reader(storage: Storage) -> TypeGuard[TurnReader]:
    """`isinstance(storage, TurnReader)`, remembered per class (see `_is_kind`)."""
    return _is_kind(storage, TurnReader)


def _is_kind(storage: Storage, kind: type) -> bool:
    # A runtime-checkable protocol's isinstance inspects every member on each call (~15 µs a
    # stateful turn in its profile, issue 24); a storage class does not grow or lose methods
    # while a worker runs.
    found = _KINDS.get((type(storage), kind))
    if found is None:
        found = _KINDS[type(storage), kind] = isinstance(storage, kind)
    return found


def require_changes(changes: Changes | None) -> None:
    if changes is None:
        raise StorageError("write needs the changes to store: a dict of key -> item")


def expected_etag(key: str, value: Any) -> str | None:
    """The eTag a write of `value` must match, or None for an unconditional write."""
    etag = value.get(ETAG) if isinstance(value, Mapping) else getattr(value, ETAG, None)
    if etag is None or etag == ANY_ETAG:
        return None
    if not isinstance(etag, str) or not etag:
        # An empty or non-string eTag is a caller bug; treating it as "no condition" would
        # silently drop the concurrency check the caller asked for.
        raise StorageError(f"invalid eTag {etag!r} for {key!r}: use a read eTag, '*' or none")
    return etag


def encode_item(key: str, value: Any) -> bytes:
    """Encode `value` without its eTag; raise `StorageError` naming `key` if it cannot be stored.

    The bytes are decoded once before anything is written: msgpack packs some values it refuses
    to unpack under our limits (non-string map keys, oversized documents), and an item written
    but unreadable would break every later turn of its conversation.
    """
    try:
        if isinstance(value, Mapping):
            data = to_stored({k: v for k, v in value.items() if k != ETAG}, key)
        else:  # an object of the bot's class (a tagged map), or any value state can keep
            data = to_stored(value, key)
    except StorageError as e:
        raise StorageError(f"cannot store {key!r}: {e}") from e
    if isinstance(data, dict) and data.get(TYPE) == "object":
        data[VALUE].pop(ETAG, None)
    try:
        packed = codec.pack(data)
        codec.unpack(packed)
    except (codec.EncodeError, codec.DecodeError) as e:
        raise StorageError(f"cannot store {key!r}: {e}") from e
    return packed


def decode_item(key: str, data: bytes, etag: str) -> Any:
    """Decode stored bytes into a fresh item, a dict or an object carrying `etag` (or the plain
    value stored)."""
    try:
        stored = codec.unpack(data)
    except codec.DecodeError as e:
        raise StorageError(f"stored item {key!r} is unreadable: {e}") from e
    item = from_stored(stored)
    if isinstance(item, dict):
        item[ETAG] = etag
    elif hasattr(item, "__dict__"):  # an object of the bot's class; frozen dataclasses too
        object.__setattr__(item, ETAG, etag)
    return item  # other values (a text, a list…) have nowhere to carry an eTag


def calculate_change_hash(item: Any) -> str:
    """A text that is the same for two items exactly when they hold the same data (their eTags
    aside): compare it before and after a change to know whether to write."""
    return hashlib.sha256(encode_item("item", item)).hexdigest()


def new_etag() -> str:
    """A fresh eTag, unique across writers and processes."""
    return uuid.uuid4().hex


class MemoryStorage:
    """`Storage` in process memory, for tests and single-process development.

    `MemoryStorage(dictionary)` starts with the items of `dictionary`, and keeps in it (and in
    `memory`) a decoded copy of what each write stored, so a test can look at what is stored.
    Unlike the SDKs' MemoryStorage it keeps encoded bytes, so reads and writes are copies and
    changing `memory` changes nothing stored; values that Redis could not store are refused
    here too; and it checks eTags as RedisStorage does, so tests see the conflicts production
    will see.
    """

    def __init__(self, dictionary: dict[str, Any] | None = None) -> None:
        self.memory: dict[str, Any] = dictionary if dictionary is not None else {}
        self._items: dict[str, tuple[str, bytes]] = {}  # key -> (eTag, msgpack data)
        for key, value in list(self.memory.items()):
            self._store(key, expected_etag(key, value) or new_etag(), encode_item(key, value))

    async def read(self, keys: Sequence[str] | None) -> dict[str, Any]:
        """The items of `keys` that exist, each a fresh copy with its eTag set."""
        if not keys:
            return {}
        # Yield like a real round trip would, so concurrent turns interleave in tests as they
        # do in production instead of running each read-modify-write back to back.
        await asyncio.sleep(0)
        found = {key: self._items[key] for key in keys if key in self._items}
        return {key: decode_item(key, data, etag) for key, (etag, data) in found.items()}

    async def write(self, changes: Changes | None) -> dict[str, str]:
        """Store every item or none (see `Storage.write`); return each key's new eTag."""
        require_changes(changes)
        if not changes:
            return {}
        prepared = [
            (key, expected_etag(key, value), encode_item(key, value))
            for key, value in changes.items()
        ]
        await asyncio.sleep(0)
        # From here to the return there is no await: the check and the set are one atomic step
        # for every other task on the loop.
        for key, expected, _ in prepared:
            if expected is not None:
                stored = self._items.get(key)
                actual = stored[0] if stored else None
                if actual != (None if expected == IF_ABSENT else expected):
                    raise EtagConflict(key, expected, actual)
        etags: dict[str, str] = {}
        for key, _, data in prepared:
            etags[key] = new_etag()
            self._store(key, etags[key], data)
        return etags

    async def delete(self, keys: Sequence[str] | None) -> None:
        """Remove `keys`; keys that do not exist are ignored."""
        await asyncio.sleep(0)
        for key in keys or ():
            self._items.pop(key, None)
            self.memory.pop(key, None)

    def _store(self, key: str, etag: str, data: bytes) -> None:
        self._items[key] = (etag, data)
        self.memory[key] = decode_item(key, data, etag)
