"""Re-importing a plugin with ``importlib.reload``, for the reload-safety checks, and what it
registered, in a form two loads can be compared by."""

from __future__ import annotations

import importlib
import sys
import types
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

from kora_conformance.model._check import CheckContext
from reference_runtime import LoadedPlugin, Runtime, describe_callable

__all__ = [
    "describe_changes",
    "load_after_reload",
    "plugin_modules",
    "registrations",
    "reload_modules",
    "reload_or_fail",
]


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


_MAX_DEPTH: Final = 6


def _value(value: object, depth: int = 0) -> str:
    """An argument as two loads can compare it: a callable by its qualified name (a wrapped
    identity provider by the provider's), plain data as written, any other object by type."""
    if depth > _MAX_DEPTH:
        return "..."
    if callable(value) and not isinstance(value, type):
        return describe_callable(getattr(value, "provider", value))
    if value is None or isinstance(value, str | bytes | bool | int | float):
        return repr(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{k!r}: {_value(v, depth + 1)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(_value(v, depth + 1) for v in value) + "]"
    return f"<{type(value).__qualname__}>"


def registrations(runtime: Runtime, plugin: LoadedPlugin) -> Counter[str]:
    """Everything ``plugin`` registered into ``runtime``, one line per registration, counted.

    The Hermes-surface records (hooks and identity providers among them), each as its kind, key
    and arguments (see :func:`_value`). Daemon entries and listeners are left to the daemon
    checks (KC-DM-004 compares them across a reload), so one root cause is reported once.
    """
    lines: list[str] = []
    for record in runtime.registrations(plugin.key):
        arguments = ", ".join(f"{k}={_value(v)}" for k, v in sorted(record.arguments.items()))
        lines.append(f"{record.kind} {record.key!r} ({arguments})")
    return Counter(lines)


def describe_changes(before: Counter[str], after: Counter[str], limit: int = 4) -> str:
    """What ``after`` has more of and less of than ``before``, a few lines of each."""

    def listed(counts: Counter[str]) -> str:
        shown = [f"{line} x{n}" for line, n in sorted(counts.items())]
        more = f" (and {len(shown) - limit} more)" if len(shown) > limit else ""
        return "; ".join(shown[:limit]) + more

    parts = []
    if added := after - before:
        parts.append(f"added {listed(added)}")
    if dropped := before - after:
        parts.append(f"dropped {listed(dropped)}")
    return ", ".join(parts) or "the same registrations in another order"
