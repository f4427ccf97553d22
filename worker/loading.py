"""Find the bot named on the command line (`--bot package.module:attr`)."""

from __future__ import annotations

import importlib

from worker.app import BotApp
from worker.errors import BotLoadError


def load_bot(spec: str) -> BotApp:
    """Import `module:attr`: a BotApp, or a bot (anything with `on_turn`) wrapped in one."""
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
    if isinstance(bot, BotApp):
        return bot
    if isinstance(bot, type):
        raise BotLoadError(
            f"--bot {spec!r}: {attr} is a class; expose an instance (bot = {attr}())"
        )
    if not callable(getattr(bot, "on_turn", None)):
        raise BotLoadError(f"--bot {spec!r}: {attr} has no on_turn(turn_context) method")
    return BotApp.of(bot)
