"""Turning a discovered candidate into a ``register`` callable.

Directory plugins import as ``hermes_plugins.<key>`` from their own directory, the package the
upstream runtime uses. Entry points may name a module that has ``register`` or the ``register``
callable itself (``pkg:register``); both forms load.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._discovery import Candidate
from ._errors import PluginLoadError

__all__ = ["DIRECTORY_PACKAGE", "load_register"]

#: The parent package directory plugins are imported under.
DIRECTORY_PACKAGE = "hermes_plugins"


def _module_name(key: str) -> str:
    return f"{DIRECTORY_PACKAGE}.{key.replace('-', '_')}"


def _import_directory(key: str, directory: Path) -> types.ModuleType:
    if DIRECTORY_PACKAGE not in sys.modules:
        parent = types.ModuleType(DIRECTORY_PACKAGE)
        parent.__path__ = []
        sys.modules[DIRECTORY_PACKAGE] = parent
    name = _module_name(key)
    init = directory / "__init__.py"
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(init):
        return existing
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(directory)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-file paths
        msg = f"plugin {key!r} ({directory}): cannot build an import spec for {init}"
        raise PluginLoadError(msg, plugin=key)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if sys.modules.get(name) is module:
            del sys.modules[name]
        raise
    return module


def _register_of(candidate: Candidate, target: object) -> Callable[[Any], Any]:
    if isinstance(target, types.ModuleType):
        register: Callable[[Any], Any] | None = getattr(target, "register", None)
        if callable(register):
            return register
        msg = (
            f"plugin {candidate.key!r} ({candidate.origin}): module {target.__name__!r} has no "
            "register(ctx) function; define def register(ctx): ... in it"
        )
        raise PluginLoadError(msg, plugin=candidate.key)
    if callable(target):
        return target
    msg = (
        f"plugin {candidate.key!r} ({candidate.origin}): the entry point resolved to "
        f"{type(target).__name__}, which is neither a module with register(ctx) nor the register "
        "callable; point it at 'package' or 'package:register'"
    )
    raise PluginLoadError(msg, plugin=candidate.key)


def load_register(candidate: Candidate) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
    """Import ``candidate`` and return its ``register`` callable and module (when it has one).

    Exceptions raised by the plugin's own code propagate unchanged for the caller to record.

    :raises PluginLoadError: the target has no usable ``register``.
    """
    if candidate.route == "directory":
        assert candidate.path is not None
        package = _import_directory(candidate.key, candidate.path)
        return _register_of(candidate, package), package
    assert candidate.entry_point is not None
    target = candidate.entry_point.load()
    module: types.ModuleType | None = (
        target
        if isinstance(target, types.ModuleType)
        else sys.modules.get(getattr(target, "__module__", "") or "")
    )
    return _register_of(candidate, target), module
