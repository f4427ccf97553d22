"""What a bot keeps in state, as storable plain data and back, faithfully and without pickles.

Plain data (str, int, float, bool, None, bytes, lists, dicts with string keys) is stored as it
is, so state written before this module existed reads back unchanged. Anything else is stored
as a tagged map, `{"$type": kind, "$value": ...}` (plus `"$class"` for the bot's own classes),
and rebuilt as the same type:

- tuples, sets, frozensets, dicts with non-string keys (or a `"$type"` key of their own);
- `datetime`, `date`, `time`, `timedelta`, `Decimal`, `UUID`;
- members of the bot's `Enum` classes;
- objects of the bot's own classes (dataclasses and plain attribute objects, nested anywhere:
  in dicts, lists, dialog `values`), rebuilt by setting their attributes on a new instance,
  without calling `__init__`.

A class is named by `module:qualname` and looked up only among modules this process has already
imported (the bot's own, imported at startup): stored data never makes a worker import code,
and nothing is unpickled. Anything else (a function, a lock, an object without attributes, a
class defined inside a function) raises `StorageError` when the state is saved, naming where it
sits in the state, instead of being stored as something it is not.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import sys
import uuid
from decimal import Decimal
from typing import Any

from worker.bot.errors import StorageError

TYPE = "$type"
VALUE = "$value"
CLASS = "$class"

_PLAIN = (str, int, float, bool, bytes, type(None))


def to_stored(value: Any, path: str = "state") -> Any:
    """`value` as plain data that `from_stored` turns back into an equal value of the same
    types; `StorageError` naming `path` (and where below it) if that cannot be done."""
    if isinstance(value, _PLAIN) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, list):
        return [to_stored(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return _dict(value, path)
    if isinstance(value, tuple | set | frozenset):
        kind = {tuple: "tuple", set: "set", frozenset: "frozenset"}.get(type(value))
        if kind is None:  # a namedtuple or a subclass: an object of the bot's class
            return _object(value, path)
        return {TYPE: kind, VALUE: [to_stored(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, enum.Enum):
        return {TYPE: "enum", CLASS: _class_name(type(value), path), VALUE: to_stored(value.value)}
    known = _known_value(value)
    if known is not None:
        return known
    return _object(value, path)


def from_stored(value: Any) -> Any:
    """The value `to_stored` encoded (plain data comes back as it is)."""
    if isinstance(value, list):
        return [from_stored(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TYPE)
    if not isinstance(kind, str) or VALUE not in value:
        return {k: from_stored(v) for k, v in value.items()}
    return _rebuild(kind, value)


def _dict(value: dict[Any, Any], path: str) -> dict[str, Any]:
    if all(isinstance(k, str) for k in value) and TYPE not in value:
        return {k: to_stored(v, f"{path}.{k}") for k, v in value.items()}
    pairs = [
        [to_stored(k, f"{path} key"), to_stored(v, f"{path}[{k!r}]")] for k, v in value.items()
    ]
    return {TYPE: "dict", VALUE: pairs}


def _known_value(value: Any) -> dict[str, Any] | None:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime.datetime):
        return {TYPE: "datetime", VALUE: value.isoformat()}
    if isinstance(value, datetime.date):
        return {TYPE: "date", VALUE: value.isoformat()}
    if isinstance(value, datetime.time):
        return {TYPE: "time", VALUE: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {TYPE: "timedelta", VALUE: [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {TYPE: "decimal", VALUE: str(value)}
    if isinstance(value, uuid.UUID):
        return {TYPE: "uuid", VALUE: str(value)}
    return None


def _object(value: Any, path: str) -> dict[str, Any]:
    cls = type(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple: built by fields
        as_dict: dict[str, Any] = value._asdict()  # type: ignore[attr-defined]
        stored = {k: to_stored(v, f"{path}.{k}") for k, v in as_dict.items()}
        return {TYPE: "namedtuple", CLASS: _class_name(cls, path), VALUE: stored}
    if dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    elif hasattr(value, "__dict__") and not callable(value) and not isinstance(value, type):
        fields = dict(vars(value))
    else:
        raise StorageError(
            f"cannot keep a {cls.__module__}.{cls.__qualname__} in bot state at {path}: store "
            "plain data, a dataclass, an Enum member or an object of your own class"
        )
    name = _class_name(cls, path)
    stored = {k: to_stored(v, f"{path}.{k}") for k, v in fields.items()}
    return {TYPE: "object", CLASS: name, VALUE: stored}


_NAMES: dict[type, str] = {}
"""Classes already checked to be found again by their name: a state holds the same few classes
turn after turn, and each save encodes the whole state twice (snapshot, write)."""


def _class_name(cls: type, path: str) -> str:
    known = _NAMES.get(cls)
    if known is not None:
        return known
    name = f"{cls.__module__}:{cls.__qualname__}"
    if "<locals>" in cls.__qualname__ or _find_class(name) is not cls:
        raise StorageError(
            f"cannot keep a {cls.__qualname__} in bot state at {path}: its class must be "
            "defined at the top level of a module, to be found again when the state is read"
        )
    _NAMES[cls] = name
    return name


def _find_class(name: str) -> type | None:
    """The class `module:qualname` among modules already imported; None if there is none."""
    module_name, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) else None


def _rebuild(kind: str, stored: dict[str, Any]) -> Any:
    raw = stored[VALUE]
    if kind in ("tuple", "set", "frozenset"):
        items = [from_stored(v) for v in raw]
        return (
            tuple(items) if kind == "tuple" else set(items) if kind == "set" else frozenset(items)
        )
    if kind == "dict":
        return {from_stored(k): from_stored(v) for k, v in raw}
    simple = {
        "datetime": datetime.datetime.fromisoformat,
        "date": datetime.date.fromisoformat,
        "time": datetime.time.fromisoformat,
        "decimal": Decimal,
        "uuid": uuid.UUID,
    }
    if kind in simple:
        return simple[kind](raw)
    if kind == "timedelta":
        days, seconds, microseconds = raw
        return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    if kind in ("enum", "object", "namedtuple"):
        cls = _find_class(str(stored.get(CLASS)))
        if cls is None:
            raise StorageError(
                f"stored state holds a {stored.get(CLASS)} and this worker has no such class "
                "imported (is it the same bot?)"
            )
        if kind == "enum":
            return cls(from_stored(raw))
        if kind == "namedtuple":
            return cls(**{k: from_stored(v) for k, v in raw.items()})
        instance: Any = object.__new__(cls)
        for attribute, value in raw.items():
            object.__setattr__(instance, attribute, from_stored(value))
        return instance
    raise StorageError(f"stored state holds a value of unknown kind {kind!r}")
