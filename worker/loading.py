"""Find the bot named on the command line (`--bot package.module:attr`)."""

from __future__ import annotations

import importlib

from worker.errors import BotLoadError
from worker.types import Bot


def load_bot(spec: str) -> Bot:
    """Import `module:attr` and return the object; it must have an async `on_turn`."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise BotLoadError(f"--bot {spec!r}: expected module:attribute, e.g. samples.echo:bot")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise BotLoadError(f"--bot {spec!r}: cannot import {module_name}: {e}") from e
    try:
        bot = getattr(module, attr)
    except AttributeError as e:
        raise BotLoadError(f"--bot {spec!r}: {module_name} has no attribute {attr!r}") from e
    if isinstance(bot, type):
        raise BotLoadError(
            f"--bot {spec!r}: {attr} is a class; expose an instance (bot = {attr}())"
        )
    if not callable(getattr(bot, "on_turn", None)):
        raise BotLoadError(f"--bot {spec!r}: {attr} has no on_turn(turn_context) method")
    return bot  # type: ignore[no-any-return]
