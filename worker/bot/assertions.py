"""Small pieces of botbuilder-core's surface that bots and their tests use: argument checks
(`BotAssert`), the error for an adapter operation a channel does not support, and the
interface of a named state property."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any


class BotAssert:
    """Argument checks with botbuilder's names: each raises TypeError when its argument is None
    (a list argument also when it is not a list)."""

    @staticmethod
    def activity_not_none(activity: Any) -> None:
        _not_none(activity, "activity")

    @staticmethod
    def context_not_none(turn_context: Any) -> None:
        _not_none(turn_context, "turn_context")

    @staticmethod
    def conversation_reference_not_none(reference: Any) -> None:
        _not_none(reference, "reference")

    @staticmethod
    def activity_list_not_none(activities: Sequence[Any] | None) -> None:
        _list(activities, "activities")

    @staticmethod
    def middleware_not_none(middleware: Any) -> None:
        _not_none(middleware, "middleware")

    @staticmethod
    def middleware_list_not_none(middleware: Sequence[Any] | None) -> None:
        _list(middleware, "middleware")


class BotActionNotImplementedError(Exception):
    """An adapter operation this channel or adapter does not support."""


class StatePropertyInfo(ABC):
    """Something with a `name`: the interface of a state property accessor."""

    @property
    @abstractmethod
    def name(self) -> str: ...


def _not_none(value: Any, name: str) -> None:
    if value is None:
        raise TypeError(f"{name} must not be None")


def _list(value: Any, name: str) -> None:
    if value is None or not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
