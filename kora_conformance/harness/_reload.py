"""Re-importing a plugin with ``importlib.reload``, for the reload-safety checks."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Sequence

from kora_conformance.model._check import CheckContext
from reference_runtime import LoadedPlugin, Runtime

__all__ = ["load_after_reload", "plugin_modules", "reload_modules", "reload_or_fail"]


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


def reload_or_fail(ctx: CheckContext, plugin: LoadedPlugin) -> str:
    """Reload ``plugin``'s modules; fail the check if the plugin's code raises.

    :returns: the reloaded modules' names, for messages.
    """
    modules = plugin_modules(plugin)
    names = ", ".join(m.__name__ for m in modules)
    try:
        reload_modules(modules)
    except Exception as exc:  # noqa: BLE001 - any error from the plugin's code is the finding
        ctx.fail(
            expected="importlib.reload of the plugin's modules to succeed",
            seen=f"reloading {names} raised {type(exc).__name__}: {exc}",
        )
    return names


def load_after_reload(ctx: CheckContext, runtime: Runtime, reloaded: str) -> LoadedPlugin:
    """Load the target into ``runtime`` after a reload; fail the check if it does not load."""
    _, _, plugin = ctx.load(
        runtime,
        expected="registering again into a fresh runtime after the reload to succeed",
        detail=f"reloaded: {reloaded}",
    )
    return plugin
