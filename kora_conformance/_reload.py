"""Re-importing a plugin the way ``importlib.reload`` does, for the reload-safety checks.

:func:`importlib.reload` finds a module's spec again through its parent package's ``__path__``.
Directory plugins are imported as ``hermes_plugins.<key>`` under a parent package whose
``__path__`` is empty, so a plain reload cannot find them. While reloading, the kit therefore
offers each module its own spec as a last resort: the module's code is executed again in the same
module object, exactly as a reload does, from the file it was first loaded from.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from reference_runtime import LoadedPlugin

__all__ = ["plugin_modules", "reload_modules"]


class _OwnSpecFinder(importlib.abc.MetaPathFinder):
    """Finds the given modules again at the files they were loaded from."""

    def __init__(self, modules: Sequence[types.ModuleType]) -> None:
        self._specs = {m.__name__: m.__spec__ for m in modules if m.__spec__ is not None}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        spec = self._specs.get(fullname)
        if spec is None or not spec.has_location or spec.origin is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, submodule_search_locations=spec.submodule_search_locations
        )


@contextmanager
def _findable(modules: Sequence[types.ModuleType]) -> Iterator[None]:
    finder = _OwnSpecFinder(modules)
    sys.meta_path.append(finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def plugin_modules(plugin: LoadedPlugin) -> list[types.ModuleType]:
    """The modules to re-import for ``plugin``, innermost first.

    That is the module defining its ``register`` function (a shim's real package, say), then the
    plugin's own module (``hermes_plugins.<key>`` for a directory plugin, the entry point's module
    otherwise); each once.
    """
    found: list[types.ModuleType] = []
    module = plugin.module
    register = getattr(module, "register", None) if module is not None else None
    defining = sys.modules.get(getattr(register, "__module__", None) or "")
    for candidate in (defining, module):
        if candidate is not None and all(candidate is not m for m in found):
            found.append(candidate)
    return found


def reload_modules(modules: Sequence[types.ModuleType]) -> None:
    """``importlib.reload`` each module in order; exceptions from the module's code propagate."""
    with _findable(modules):
        for module in modules:
            importlib.reload(module)
