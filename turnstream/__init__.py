"""The `turnstream` command: the composition root that alone imports both gateway and worker."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _import_own_packages() -> None:
    """Import `shared`, `gateway` and `worker` from where turnstream is installed, whatever
    `sys.path` holds: a bot's folder on PYTHONPATH (or the current folder) may have a
    `shared.py` of its own, and turnstream's imports must never resolve to it. Once a package
    is in `sys.modules`, its submodules are found through its own `__path__`."""
    home = Path(__file__).resolve().parent.parent
    for name in ("shared", "gateway", "worker"):
        if name in sys.modules:
            continue
        package = home / name
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        if spec is None or spec.loader is None:  # pragma: no cover - an incomplete install
            raise ImportError(f"turnstream's package {name!r} is missing from {home}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


_import_own_packages()
