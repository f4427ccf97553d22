"""Proactive turns from bot code: `continue_conversation(reference, callback)` queues a turn
(see `shared.protocol.proactive`) that a worker later runs with `callback` instead of the bot's
`on_turn`, in order with the conversation's other turns.

A queued turn outlives the process that asked for it, so a callback travels by name when it can:
a module-level coroutine function (`module:qualname`) or a method of the running bot
(`bot:name`). A worker looks names up only among modules it has already imported: a stream
entry never makes it import code.

Closures and lambdas have no name another process can find. Inside a worker they are kept in
the memory of the process that queued the turn (`LocalCallbacks`, run by
`worker.runtime.local_callbacks`), and the turn carries `local:<worker>:<token>`: whichever
worker reads it hands it to that one, and if that worker is gone the turn is dead-lettered
with the reason, never run elsewhere nor lost silently (docs/decisions/0019).
"""

from __future__ import annotations

import inspect
import sys
from typing import TYPE_CHECKING, Any, Protocol

from worker.bot.types import ProactiveCallback, TurnHandler
from worker.errors import WorkerError

if TYPE_CHECKING:
    from worker.bot.turn_context import TurnContext


LOCAL = "local:"
"""How the name of a callback kept in one worker's memory starts: `local:<worker>:<token>`."""


class UnknownCallback(WorkerError):
    """A queued proactive turn names a callback this worker does not have."""


class LocalCallbacks(Protocol):
    """Where a worker keeps the callbacks that cannot travel by name, until their turn ran."""

    async def keep(self, callback: ProactiveCallback) -> str:
        """Keep `callback`; return the name its queued turn carries (`local:...`)."""
        ...

    def queued(self, name: str, conversation: str, entry_id: str) -> None:
        """The turn carrying `name` was queued as `entry_id` in `conversation`."""
        ...

    def dropped(self, name: str) -> None:
        """The turn carrying `name` was not queued: forget its callback."""
        ...

    def find(self, name: str) -> ProactiveCallback | None:
        """The callback kept under `name`, or None if this worker does not hold it."""
        ...


def is_named(callback: ProactiveCallback, bot: object) -> bool:
    """Whether `callback` can travel by name (`callback_name` accepts it)."""
    try:
        callback_name(callback, bot)
    except TypeError:
        return False
    return True


def callback_name(callback: ProactiveCallback, bot: object) -> str:
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


def resolve_callback(name: str, bot: object, local: LocalCallbacks | None = None) -> TurnHandler:
    """The callback a queued turn names; raise UnknownCallback."""
    if name.startswith(LOCAL):
        kept = local.find(name) if local is not None else None
        if kept is None:
            raise UnknownCallback(f"proactive callback {name!r} is not held by this worker")
        return awaiting(kept)
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


def awaiting(callback: ProactiveCallback) -> TurnHandler:
    """A turn handler that awaits what `callback` returns (a lambda returns the awaitable)."""

    async def handler(turn_context: TurnContext) -> None:
        await callback(turn_context)

    return handler
