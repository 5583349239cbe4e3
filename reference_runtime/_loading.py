"""Turning a discovered candidate into a ``register`` callable.

Directory plugins import as ``hermes_plugins.<key>`` from their own directory, the package the
upstream runtime uses. Entry points may name a module that has ``register``, an object with a
``register`` method (as upstream's loader accepts), or the ``register`` callable itself
(``pkg:register``); all load.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from ._daemons import background_daemon_registry
from ._discovery import Candidate
from ._errors import PluginLoadError
from ._listeners import ListenerFactory, ListenerTask, listener_registry

__all__ = [
    "DIRECTORY_PACKAGE",
    "DefaultsSnapshot",
    "directory_plugins_restored",
    "drop_modules",
    "load_register",
    "package_of",
]

#: The parent package directory plugins are imported under.
DIRECTORY_PACKAGE = "hermes_plugins"


def _module_name(key: str) -> str:
    # As upstream: a category plugin's key "platforms/pager" imports as platforms__pager.
    return f"{DIRECTORY_PACKAGE}.{key.replace('/', '__').replace('-', '_')}"


class _DirectoryPluginFinder(importlib.abc.MetaPathFinder):
    """Finds ``hermes_plugins.<key>`` at the directory the runtime last loaded it from.

    Going through the import system (rather than executing the file by hand) is what lets
    ``importlib.reload`` re-import a directory plugin, as it would any other module.
    """

    def __init__(self) -> None:
        self.locations: dict[str, Path] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        directory = self.locations.get(fullname)
        if directory is None or not (directory / "__init__.py").is_file():
            # A plugin directory that has since gone (a test's scratch copy): let the import
            # system report the module as missing instead of failing on a stale path.
            return None
        return importlib.util.spec_from_file_location(
            fullname, directory / "__init__.py", submodule_search_locations=[str(directory)]
        )


# The import system is process-wide, so its finder is too; it only answers for the plugin
# modules it was told about.
_FINDER: Final = _DirectoryPluginFinder()


@contextlib.contextmanager
def directory_plugins_restored() -> Iterator[None]:
    """Within it, directory plugins may be loaded from anywhere; after it, the import system
    finds ``hermes_plugins.<key>`` only where it found them before.

    For a harness that loads plugins from scratch directories and must leave the process as it
    found it: a plugin's module name points at no deleted directory afterwards.
    """
    saved = dict(_FINDER.locations)
    try:
        yield
    finally:
        _FINDER.locations.clear()
        _FINDER.locations.update(saved)


def _import_directory(key: str, directory: Path) -> types.ModuleType:
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
    if DIRECTORY_PACKAGE not in sys.modules:
        parent = types.ModuleType(DIRECTORY_PACKAGE)
        parent.__path__ = []
        sys.modules[DIRECTORY_PACKAGE] = parent
    name = _module_name(key)
    init = directory / "__init__.py"
    _FINDER.locations[name] = directory
    existing = sys.modules.get(name)
    if existing is not None:
        if getattr(existing, "__file__", None) == str(init):
            return existing
        # The same key from another directory (another search root, another test): the
        # stale module must not stand in for this one.
        del sys.modules[name]
    return importlib.import_module(name)


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
    # Upstream's loader takes ``getattr(ep.load(), "register")``: an object (an instance, a
    # class) with a register method is a plugin there, so it is one here too.
    method = getattr(target, "register", None)
    if callable(method):
        return method  # type: ignore[no-any-return]
    if callable(target):
        return target
    msg = (
        f"plugin {candidate.key!r} ({candidate.origin}): the entry point resolved to "
        f"{type(target).__name__}, which is neither a module with register(ctx), an object with "
        "a register(ctx) method, nor the register callable; point it at 'package' or "
        "'package:register'"
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


def package_of(candidate: Candidate) -> str | None:
    """The top-level package a plugin's own modules live in, when it has one of its own."""
    if candidate.route == "directory":
        return f"{DIRECTORY_PACKAGE}.{candidate.key.replace('/', '__').replace('-', '_')}"
    if candidate.entry_point is not None:
        try:
            return candidate.entry_point.module.partition(".")[0] or None
        except Exception:  # noqa: BLE001 - a malformed value has no module
            return None
    return None


def _owned_by(package: str, fn: object) -> bool:
    module = getattr(fn, "__module__", None)
    return isinstance(module, str) and (module == package or module.startswith(f"{package}."))


def drop_modules(package: str) -> None:
    """Forget every imported module of ``package``, so the next import starts afresh."""
    for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
        del sys.modules[name]


class DefaultsSnapshot:
    """The process-default registries before a plugin loads, to undo what its import added."""

    def __init__(self) -> None:
        self._daemons = {e.name for e in background_daemon_registry().list_entries()}
        listeners = listener_registry()
        self._factories: dict[str, ListenerFactory | None] = {
            name: listeners.factory(name) for name in listeners.names()
        }
        self._tasks: dict[str, ListenerTask] = {t.spec.name: t for t in listeners.tasks()}

    def discard_added_by(self, package: str) -> None:
        """Remove (or put back what they replaced) the registrations made since the snapshot
        whose callbacks are defined in ``package``."""
        daemons = background_daemon_registry()
        for entry in daemons.list_entries():
            if entry.name not in self._daemons and _owned_by(package, entry.startup):
                daemons.unregister(entry.name)
        listeners = listener_registry()
        for name in listeners.names():
            factory, before = listeners.factory(name), self._factories.get(name)
            if factory is not before and _owned_by(package, factory):
                listeners.unregister(name)
                if before is not None:
                    listeners.register(name, before)
        for task in listeners.tasks():
            previous = self._tasks.get(task.spec.name)
            if task is not previous and _owned_by(package, task.spec.callback):
                listeners.unregister_task(task.spec.name)
                if previous is not None:
                    listeners.register_task(previous.spec, listener=previous.listener)
