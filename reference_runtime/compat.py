"""The Kora fork's import paths, as aliases of this runtime's own classes.

Plugins written for the fork import ``agent.identity_spec`` (and, for daemons,
``agent.background_daemon_registry``). :func:`install` makes those paths importable, exposing the
very same class objects this runtime uses, so ``isinstance`` checks hold and such plugins load
unmodified. It never shadows a real ``agent`` package that is importable on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from . import _daemons, _listeners
from ._daemons import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
    background_daemon_registry,
)
from ._identity import IdentityProvider, IdentitySpec

__all__ = ["ALIASES", "install", "installed", "is_installed", "isolated_defaults", "uninstall"]

_log = logging.getLogger("reference_runtime")

_MARKER: Final = "__kora_compat__"


def _identity_spec() -> Mapping[str, Any]:
    return {"IdentitySpec": IdentitySpec, "IdentityProvider": IdentityProvider}


def _background_daemon_registry() -> Mapping[str, Any]:
    return {
        "BackgroundDaemonEntry": BackgroundDaemonEntry,
        "BackgroundDaemonRegistry": BackgroundDaemonRegistry,
        "PeriodicTaskSpec": PeriodicTaskSpec,
        "background_daemon_registry": background_daemon_registry,
    }


#: Alias module name → a function returning the names it exposes.
ALIASES: Final[dict[str, Callable[[], Mapping[str, Any]]]] = {
    "agent.background_daemon_registry": _background_daemon_registry,
    "agent.identity_spec": _identity_spec,
}


def _foreign_agent_present() -> bool:
    existing = sys.modules.get("agent")
    if existing is not None:
        return not getattr(existing, _MARKER, False)
    try:
        return importlib.util.find_spec("agent") is not None
    except (ImportError, ValueError):
        return False


def is_installed() -> bool:
    """Whether the aliases are currently in ``sys.modules``."""
    return bool(getattr(sys.modules.get("agent"), _MARKER, False))


def install() -> bool:
    """Make the fork's import paths importable; idempotent.

    :returns: ``True`` when the aliases are in place, ``False`` when a real ``agent`` package
        exists and was left alone (its own classes are then the ones plugins get).
    """
    if is_installed():
        return True
    if _foreign_agent_present():
        _log.warning(
            "a real 'agent' package is importable; the reference runtime's compatibility "
            "aliases were not installed over it"
        )
        return False
    package = types.ModuleType("agent", "Compatibility aliases installed by reference_runtime.")
    package.__path__ = []
    setattr(package, _MARKER, True)
    sys.modules["agent"] = package
    for name, exports in ALIASES.items():
        module = types.ModuleType(name, f"Alias of reference_runtime for the fork's {name}.")
        setattr(module, _MARKER, True)
        values = dict(exports())
        module.__dict__.update(values)
        module.__all__ = sorted(values)  # type: ignore[attr-defined]
        sys.modules[name] = module
        setattr(package, name.rpartition(".")[2], module)
    return True


def uninstall() -> None:
    """Remove the aliases installed by :func:`install`; a foreign ``agent`` is left alone."""
    if not is_installed():
        return
    for name in [*ALIASES, "agent"]:
        sys.modules.pop(name, None)


@contextmanager
def installed() -> Iterator[bool]:
    """Install the aliases for the ``with`` block and remove them after, if this installed them."""
    already = is_installed()
    result = install()
    try:
        yield result
    finally:
        if result and not already:
            uninstall()


@contextmanager
def isolated_defaults() -> Iterator[None]:
    """Give the ``with`` block fresh process defaults, then put the old ones back.

    The process-default daemon registry, listener registry and listener singletons exist for
    fork-style code that registers at import. A host that loads the same plugins repeatedly in
    one process (the conformance kit does, once per check) uses this so nothing one load
    registered is seen by the next.
    """
    saved = (
        _daemons._default_registry,
        _listeners._default_listeners,
        dict(_listeners._singletons),
    )
    _daemons._default_registry = None
    _listeners._default_listeners = None
    _listeners._singletons.clear()
    try:
        yield
    finally:
        _daemons._default_registry, _listeners._default_listeners = saved[0], saved[1]
        _listeners._singletons.clear()
        _listeners._singletons.update(saved[2])
