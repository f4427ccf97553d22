"""Bot-state storage: the `Storage` protocol, its errors and the in-process `MemoryStorage`.

The shape is botbuilder-python's (`read`, `write`, `delete` over string keys), with the
semantics its C# and JS siblings document and the Python SDKs lost:

- an item's eTag travels inside the value under `"eTag"`; `read` sets it, `write` checks it and
  returns the new one, so optimistic concurrency works with any backend;
- a write of several keys is all-or-nothing;
- values are plain data encoded with msgpack (never pickled) and every read returns a copy, so
  mutating what you read changes nothing until you write it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

from shared.protocol import codec
from worker.bot.turn_commit import TurnCommit
from worker.errors import WorkerError

ETAG = "eTag"
"""The value key carrying an item's eTag (the C#/JSON name)."""

ANY_ETAG = "*"
"""An eTag that matches whatever is stored: the write is unconditional."""

IF_ABSENT = "<absent>"
"""An eTag that matches only a key that does not exist: create, but never overwrite. BotState
uses it for state it read as missing, so two turns creating the same state cannot both win."""

StoreItem: TypeAlias = dict[str, Any]
"""A stored value: plain data (dict, list, str, bytes, int, float, bool, None) under str keys."""


class StorageError(WorkerError):
    """A storage operation was refused: a value cannot be stored, or stored data is unreadable."""


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

    async def read(self, keys: Sequence[str]) -> dict[str, StoreItem]:
        """The items of `keys` that exist, each a fresh copy with `"eTag"` set; others absent."""
        ...

    async def write(self, changes: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """Store every item of `changes` or none of them; return each key's new eTag.

        An item's `"eTag"` (not stored as data) decides: missing, None or `"*"` writes
        unconditionally; `IF_ABSENT` only if the key does not exist; any other value must equal
        the stored eTag. Otherwise `EtagConflict` (also when the key does not exist). A value
        that cannot be encoded raises `StorageError`.
        """
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`; keys that do not exist are ignored."""
        ...


@runtime_checkable
class TurnStorage(Storage, Protocol):
    """A storage whose writes the turn's commit object can fence: each write of a turn runs in
    the runtime's script that checks the turn still owns its stream entry (RedisStorage).

    Any other storage is written after `TurnCommit.ensure_owned`: a check, not an atomic fence
    (docs/reliability.md)."""

    async def write_for_turn(
        self, changes: Mapping[str, Mapping[str, Any]], commit: TurnCommit, *, final: bool
    ) -> dict[str, str]:
        """`write`, fenced by the turn's entry; with `final`, also commit the turn (move its
        conversation on and acknowledge the entry) in the same atomic step."""
        ...

    async def delete_for_turn(self, keys: Sequence[str], commit: TurnCommit) -> None:
        """`delete`, fenced by the turn's entry."""
        ...


def expected_etag(key: str, value: Mapping[str, Any]) -> str | None:
    """The eTag a write of `value` must match, or None for an unconditional write."""
    if not isinstance(value, Mapping):
        raise StorageError(f"cannot store {key!r}: a value must be a dict, not {type(value)!r}")
    etag = value.get(ETAG)
    if etag is None or etag == ANY_ETAG:
        return None
    if not isinstance(etag, str) or not etag:
        # An empty or non-string eTag is a caller bug; treating it as "no condition" would
        # silently drop the concurrency check the caller asked for.
        raise StorageError(f"invalid eTag {etag!r} for {key!r}: use a read eTag, '*' or none")
    return etag


def encode_item(key: str, value: Mapping[str, Any]) -> bytes:
    """Encode `value` without its eTag; raise `StorageError` naming `key` if it cannot be stored.

    The bytes are decoded once before anything is written: msgpack packs some values it refuses
    to unpack under our limits (non-string map keys, oversized documents), and an item written
    but unreadable would break every later turn of its conversation.
    """
    data = {k: v for k, v in value.items() if k != ETAG}
    try:
        packed = codec.pack(data)
        codec.unpack(packed)
    except (codec.EncodeError, codec.DecodeError) as e:
        raise StorageError(f"cannot store {key!r}: {e}") from e
    return packed


def decode_item(key: str, data: bytes, etag: str) -> StoreItem:
    """Decode stored bytes into a fresh item carrying `etag`."""
    try:
        item = codec.unpack(data)
    except codec.DecodeError as e:
        raise StorageError(f"stored item {key!r} is unreadable: {e}") from e
    if not isinstance(item, dict):
        raise StorageError(f"stored item {key!r} is not a map but {type(item).__name__}")
    item[ETAG] = etag
    return item


def new_etag() -> str:
    """A fresh eTag, unique across writers and processes."""
    return uuid.uuid4().hex


class MemoryStorage:
    """`Storage` in process memory, for tests and single-process development.

    Unlike the SDKs' MemoryStorage it keeps encoded bytes, so reads and writes are copies and
    values that Redis could not store are refused here too; and it checks eTags as RedisStorage
    does, so tests see the conflicts production will see.
    """

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, bytes]] = {}  # key -> (eTag, msgpack data)

    async def read(self, keys: Sequence[str]) -> dict[str, StoreItem]:
        """The items of `keys` that exist, each a fresh copy with `"eTag"` set."""
        # Yield like a real round trip would, so concurrent turns interleave in tests as they
        # do in production instead of running each read-modify-write back to back.
        await asyncio.sleep(0)
        found = {key: self._items[key] for key in keys if key in self._items}
        return {key: decode_item(key, data, etag) for key, (etag, data) in found.items()}

    async def write(self, changes: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
        """Store every item or none (see `Storage.write`); return each key's new eTag."""
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
            self._items[key] = (etags[key], data)
        return etags

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove `keys`; keys that do not exist are ignored."""
        await asyncio.sleep(0)
        for key in keys:
            self._items.pop(key, None)
