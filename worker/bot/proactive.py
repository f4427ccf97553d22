"""Proactive turns from bot code: `continue_conversation(reference, callback)` queues a turn
(see `shared.protocol.proactive`) that a worker later runs with `callback` instead of the bot's
`on_turn`, in order with the conversation's other turns.

A queued turn outlives the process that asked for it, so the callback travels by name: a
module-level coroutine function (`module:qualname`) or a method of the running bot
(`bot:name`). Closures and lambdas have no name another process can find, and are refused
when queued rather than failing later. A worker looks names up only among modules it has
already imported: a stream entry never makes it import code.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from worker.bot.types import TurnHandler
from worker.errors import WorkerError


class UnknownCallback(WorkerError):
    """A queued proactive turn names a callback this worker does not have."""


def callback_name(callback: TurnHandler, bot: object) -> str:
    """The name a queued turn carries for `callback`; raise TypeError if it has none."""
    owner = getattr(callback, "__self__", None)
    name = getattr(callback, "__name__", "")
    if owner is not None:
        if owner is bot and getattr(bot, name, None) == callback:
            return f"bot:{name}"
        raise TypeError("a proactive callback may be a method of the running bot, no other object")
    qualname = getattr(callback, "__qualname__", "")
    module = getattr(callback, "__module__", None)
    if not module or not qualname or "<" in qualname or "." in qualname:
        raise TypeError(
            f"{qualname or callback!r} cannot be a proactive callback: use a module-level "
            "async function or a method of the bot (the turn may run in another process)"
        )
    if not inspect.iscoroutinefunction(callback):
        raise TypeError(f"{qualname} must be an async function")
    return f"{module}:{qualname}"


def resolve_callback(name: str, bot: object) -> TurnHandler:
    """The callback a queued turn names; raise UnknownCallback."""
    target, _, attribute = name.partition(":")
    found: Any = None
    if target == "bot":
        found = getattr(bot, attribute, None)
    elif target in sys.modules:
        found = getattr(sys.modules[target], attribute, None)
    if found is None or not inspect.iscoroutinefunction(found):
        raise UnknownCallback(
            f"proactive callback {name!r} is not an async function this worker has loaded"
        )
    callback: TurnHandler = found
    return callback
