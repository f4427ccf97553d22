"""ObjectPath: read, write and remove values by path ("user.address.city", "items[0]") in
dicts, lists and plain objects, and overlay one object's values on another's, as
botbuilder's `ObjectPath` does (dialogs use it for options and memory)."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable
from typing import Any

# A segment: a name between dots, `[2]`, or `['a key']` / `["a key"]`.
_SEGMENT = re.compile(r"""\[\s*(?:(-?\d+)|'([^']*)'|"([^"]*)")\s*\]|([^.\[\]]+)""")
_MISSING = object()


class ObjectPath:
    """Paths into data. Names match dict keys and attributes without regard to case, as in
    botbuilder ("foo.bar" finds `{"Foo": {"Bar": 1}}`)."""

    @staticmethod
    def try_resolve_path(obj: Any, property_path: str, evaluate: bool = False) -> list[str | int]:
        """The segments of a path: names as strings, list positions as ints
        (`"x.a[1]"` → `["x", "a", 1]`). `evaluate` is accepted and not used."""
        segments: list[str | int] = []
        for match in _SEGMENT.finditer(property_path or ""):
            index, single, double, name = match.groups()
            if index is not None:
                segments.append(int(index))
            else:
                segments.append((single if single is not None else double) or name.strip())
        return segments

    @staticmethod
    def get_path_value(obj: Any, path: str, default: Any = None) -> Any:
        """The value at `path`; if there is none, `default` (called if it is callable), and
        without a default a KeyError naming the path."""
        value = _resolve(obj, ObjectPath.try_resolve_path(obj, path))
        if value is not _MISSING and value is not None:
            return value
        if default is None:
            raise KeyError(f"Key {path} not found")
        return default() if callable(default) else default

    @staticmethod
    def try_get_path_value(obj: Any, path: str) -> Any:
        """The value at `path`, or None."""
        value = _resolve(obj, ObjectPath.try_resolve_path(obj, path))
        return None if value is _MISSING else value

    @staticmethod
    def has_value(obj: Any, path: str) -> bool:
        """True if there is a value (not None) at `path`."""
        return ObjectPath.try_get_path_value(obj, path) is not None

    @staticmethod
    def set_path_value(obj: Any, path: str, value: Any) -> None:
        """Set the value at `path`, creating the dicts (and lists, for `[n]`) on the way."""
        segments = ObjectPath.try_resolve_path(obj, path)
        if not segments:
            return
        current = obj
        for segment, following in itertools.pairwise(segments):
            found = _child(current, segment)
            if found is _MISSING or found is None:
                found = [] if isinstance(following, int) else {}
                _set_child(current, segment, found)
            current = found
        _set_child(current, segments[-1], value)

    @staticmethod
    def remove_path_value(obj: Any, path: str) -> None:
        """Remove the value at `path` (a list item becomes None, keeping the positions)."""
        segments = ObjectPath.try_resolve_path(obj, path)
        if not segments:
            return
        parent = _resolve(obj, segments[:-1])
        last = segments[-1]
        if isinstance(parent, list) and isinstance(last, int):
            if -len(parent) <= last < len(parent):
                parent[last] = None
        elif isinstance(parent, dict):
            key = _matching_key(parent, str(last))
            if key is not None:
                del parent[key]
        elif parent is not _MISSING and parent is not None:
            name = _matching_attribute(parent, str(last))
            if name is not None:
                delattr(parent, name)

    @staticmethod
    def assign(start_object: Any, overlay_object: Any, default: Any = None) -> Any:
        """A new object: a deep copy of `start_object` with every value of `overlay_object`
        that is not None laid over it (nested dicts and objects merged, not replaced). With
        neither, `default` (called if it is a class or function)."""
        if start_object is None and overlay_object is None:
            return default() if callable(default) else copy.deepcopy(default)
        if start_object is None:
            return copy.deepcopy(overlay_object)
        result = copy.deepcopy(start_object)
        if overlay_object is None:
            return result
        _overlay(result, overlay_object)
        return result

    @staticmethod
    def for_each_property(obj: Any, action: Callable[[str, Any], None]) -> None:
        """Call `action(name, value)` for each key of a dict or attribute of an object."""
        for name, value in _properties(obj):
            action(name, value)


def _properties(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items()]
    return list(vars(obj).items()) if hasattr(obj, "__dict__") else []


def _overlay(target: Any, overlay: Any) -> None:
    for name, value in _properties(overlay):
        if value is None:
            continue
        current = _child(target, name)
        mergeable = isinstance(value, dict) or hasattr(value, "__dict__")
        if mergeable and current is not _MISSING and current is not None:
            _overlay(current, value)
        else:
            _set_child(target, name, copy.deepcopy(value))


def _resolve(obj: Any, segments: list[str | int]) -> Any:
    current = obj
    for segment in segments:
        if current is None or current is _MISSING:
            return _MISSING
        current = _child(current, segment)
    return current


def _child(current: Any, segment: str | int) -> Any:
    if isinstance(current, list | tuple):
        if isinstance(segment, int) and -len(current) <= segment < len(current):
            return current[segment]
        return _MISSING
    if isinstance(current, dict):
        key = _matching_key(current, str(segment))
        return _MISSING if key is None else current[key]
    name = _matching_attribute(current, str(segment))
    return _MISSING if name is None else getattr(current, name)


def _set_child(current: Any, segment: str | int, value: Any) -> None:
    if isinstance(current, list):
        if not isinstance(segment, int):
            raise TypeError(f"a list has positions, not {segment!r}")
        current.extend([None] * (segment + 1 - len(current)))
        current[segment] = value
    elif isinstance(current, dict):
        current[_matching_key(current, str(segment)) or str(segment)] = value
    else:
        setattr(current, _matching_attribute(current, str(segment)) or str(segment), value)


def _matching_key(mapping: dict[Any, Any], name: str) -> Any:
    if name in mapping:
        return name
    folded = name.casefold()
    return next((k for k in mapping if isinstance(k, str) and k.casefold() == folded), None)


def _matching_attribute(obj: Any, name: str) -> str | None:
    if not hasattr(obj, "__dict__"):
        return name if hasattr(obj, name) else None
    if name in vars(obj):
        return name
    folded = name.casefold()
    return next((k for k in vars(obj) if k.casefold() == folded), None)
