"""Find the bot named on the command line (`--bot module:attr`, looked up in `--app-dir`)."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from types import ModuleType

import worker
from worker.bot.app import BotApp
from worker.runtime.errors import BotLoadError

TURNSTREAM_PACKAGES = ("shared", "gateway", "worker", "turnstream")
"""The top-level names turnstream installs. A bot folder's own module of one of these names
cannot be imported while turnstream runs: the name is taken by turnstream's package."""

_INSTALLED_AT = Path(worker.__file__).resolve().parent.parent
"""The folder holding turnstream's packages (site-packages, or the checkout)."""


def load_bot(spec: str, app_dir: Path | str = ".") -> BotApp:
    """Import `module:attr` with `app_dir` first on the module path (as uvicorn's --app-dir):
    a BotApp, or a bot (anything with `on_turn`) wrapped in one.

    turnstream's own packages are imported before `app_dir` joins the path (this module is one
    of them), so their modules never resolve to the bot's. A bot module that shares a name
    with one of them and that the bot imports is refused here, naming the file, instead of
    failing at the bot's first turn.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise BotLoadError(f"--bot {spec!r}: expected module:attribute, e.g. samples.echo:bot")
    folder = Path(app_dir).resolve()
    if not folder.is_dir():
        raise BotLoadError(f"--app-dir {str(app_dir)!r}: not a folder")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    clashes = _clashing_files(folder)
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        if clashes:
            raise BotLoadError(_clash_message(spec, clashes[0])) from e
        if not isinstance(e, ImportError | SyntaxError):
            raise
        raise BotLoadError(f"--bot {spec!r}: cannot import {module_name}: {e}") from e
    for clash in clashes:
        if _imported_by_the_bot(clash.stem if clash.suffix else clash.name, folder):
            raise BotLoadError(_clash_message(spec, clash))
    return _as_bot_app(spec, module, attr)


def _as_bot_app(spec: str, module: ModuleType, attr: str) -> BotApp:
    try:
        bot = getattr(module, attr)
    except AttributeError as e:
        raise BotLoadError(f"--bot {spec!r}: {module.__name__} has no attribute {attr!r}") from e
    if isinstance(bot, BotApp):
        return bot
    if isinstance(bot, type):
        raise BotLoadError(
            f"--bot {spec!r}: {attr} is a class; expose an instance (bot = {attr}())"
        )
    if not callable(getattr(bot, "on_turn", None)):
        raise BotLoadError(f"--bot {spec!r}: {attr} has no on_turn(turn_context) method")
    return BotApp.of(bot)


def _clashing_files(folder: Path) -> list[Path]:
    """The bot folder's modules and packages named like one of turnstream's packages (not
    turnstream's own, as when the folder is turnstream's checkout)."""
    found = []
    for name in TURNSTREAM_PACKAGES:
        for candidate in (folder / f"{name}.py", folder / name):
            if candidate.exists() and candidate.resolve() != _INSTALLED_AT / name:
                found.append(candidate)
    return found


def _imported_by_the_bot(name: str, folder: Path) -> bool:
    """Whether a module loaded from the bot's folder says `import name`: it means its own
    module, and would get turnstream's package instead. (Anything else of that name it could
    import, such as `from worker.bot import ...`, is turnstream's, or failed already.)"""
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        path = Path(source).resolve()
        if not path.is_relative_to(folder) or path.is_relative_to(_INSTALLED_AT / name):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == name for a in node.names):
                return True
    return False


def _clash_message(spec: str, clash: Path) -> str:
    name = clash.stem if clash.suffix else clash.name
    return (
        f"--bot {spec!r}: {clash} has the name of turnstream's own package {name!r}, so the "
        f"bot cannot import it; rename it (e.g. to bot_{clash.name}) and update its imports"
    )
