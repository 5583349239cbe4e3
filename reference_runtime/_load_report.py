"""What a load reports: the plugins that loaded, and for each one that did not, why.

A failure's message names the plugin and where it came from, the error, the plugin's own line
that raised (not the runtime's), and a fix where the kind of error suggests one; it ends by
saying what the runtime did about it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sysconfig
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ._context import PluginContext
from ._daemons import BackgroundDaemonEntry
from ._discovery import Shadowing
from ._errors import PluginLoadError, message_of
from ._identity import IdentityProvider
from ._manifest import Manifest
from ._registrations import Registration

__all__ = ["LoadReport", "LoadedPlugin", "failure_message"]


@dataclasses.dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that loaded, and what it registered."""

    key: str
    route: Literal["directory", "entry_point"]
    origin: str
    manifest: Manifest
    module: types.ModuleType | None
    hooks: tuple[tuple[str, Callable[..., Any]], ...]
    identity_providers: tuple[IdentityProvider, ...]
    daemons: tuple[BackgroundDaemonEntry, ...] = ()
    listeners: tuple[str, ...] = ()
    #: Its Hermes-surface registrations (hooks included) as committed when ``register``
    #: returned, in order, then the model providers it registered with the installed host's
    #: own registry (``_host_providers``): what a host reads after loading. A plugin that keeps
    #: its context may register more later (see :meth:`Runtime.registrations`); not here.
    registrations: tuple[Registration, ...] = ()

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def hook_names(self) -> tuple[str, ...]:
        """Distinct hook names registered, first registration first."""
        return tuple(dict.fromkeys(name for name, _ in self.hooks))


@dataclasses.dataclass
class LoadReport:
    """What :meth:`Runtime.load` did, for operators and for tools that inspect a runtime.

    :ivar loaded: plugins that loaded, in precedence order.
    :ivar errors: plugin key → why it failed (import, ``register`` or manifest).
    :ivar missing: enabled names that discovery did not find.
    :ivar disabled: enabled names skipped because ``plugins.disabled`` lists them.
    :ivar shadowed: same-key copies hidden by another source.
    :ivar warnings: non-fatal findings (unknown hook names, unknown manifest keys).
    """

    loaded: list[LoadedPlugin] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    missing: list[str] = dataclasses.field(default_factory=list)
    disabled: list[str] = dataclasses.field(default_factory=list)
    shadowed: list[Shadowing] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def plugin(self, key: str) -> LoadedPlugin | None:
        """The loaded plugin named ``key``, if it loaded."""
        return next((p for p in self.loaded if p.key == key), None)


_RUNTIME_DIR = str(Path(__file__).resolve().parent)
_STDLIB = sysconfig.get_paths()["stdlib"]
_CONTEXT_CALL = re.compile(r"\bPluginContext\.(?P<method>\w+)\(\)")


def _is_plugin_code(filename: str) -> bool:
    if filename.startswith((_RUNTIME_DIR, "<")):
        return False
    return not filename.startswith(_STDLIB) or "site-packages" in filename


def _where_and_fix(exc: BaseException) -> tuple[str, str]:
    """The plugin's own line that failed (not the runtime's), and a fix for what it broke."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "", ""
    mine = [i for i, f in enumerate(frames) if _is_plugin_code(f.filename)]
    at = frames[mine[-1]] if mine else frames[-1]
    where = f" at {at.filename}:{at.lineno}"
    fix = ""
    callee = frames[mine[-1] + 1] if mine and mine[-1] + 1 < len(frames) else None
    called = _CONTEXT_CALL.search(str(exc)) if isinstance(exc, TypeError) else None
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        fix = (
            f"to fix: make {exc.name!r} importable where the plugin runs (declare it in the "
            "plugin's dependencies), or import it only inside the code that needs it"
        )
    elif called is not None and hasattr(PluginContext, called["method"]):
        method = called["method"]
        signature = inspect.signature(getattr(PluginContext, method))
        plain = signature.replace(
            parameters=[
                p.replace(annotation=inspect.Parameter.empty)
                for p in signature.parameters.values()
                if p.name != "self"
            ],
            return_annotation=inspect.Signature.empty,
        )
        fix = f"to fix: call it as ctx.{method}{plain}"
    elif callee is not None and callee.name.startswith("register"):
        fix = (
            f"to fix: correct the ctx.{callee.name}(...) call{where}: the error says what it broke"
        )
    return where, fix


def failure_message(key: str, origin: str, exc: BaseException) -> str:
    """Why plugin ``key`` (from ``origin``) failed to load, for the load report: the error, the
    plugin's own line it came from, and a fix where the kind of error suggests one."""
    if isinstance(exc, PluginLoadError):
        message = message_of(exc)
        return message if origin in message else f"{message} ({origin})"
    try:
        where, fix = _where_and_fix(exc)
    except Exception:  # noqa: BLE001 - the location is a courtesy
        where, fix = "", ""
    return (
        f"plugin {key!r} ({origin}) failed to load: {type(exc).__name__}: {message_of(exc)}"
        f"{where}; {fix + '; ' if fix else ''}its registrations were rolled back and the other "
        "plugins still load"
    )
