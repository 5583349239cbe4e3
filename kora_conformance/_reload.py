"""Re-importing a plugin with ``importlib.reload``, for the reload-safety checks."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Sequence

from reference_runtime import LoadedPlugin

__all__ = ["plugin_modules", "reload_modules"]


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
    for module in modules:
        importlib.reload(module)
