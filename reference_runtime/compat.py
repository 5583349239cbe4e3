"""The Kora fork's import paths, as aliases of this runtime's own classes.

Plugins written for the fork import ``agent.identity_spec`` (and, for daemons,
``agent.background_daemon_registry``). :func:`install` makes those paths importable, exposing the
very same class objects this runtime uses, so ``isinstance`` checks hold and such plugins load
unmodified.

It never shadows a real ``agent`` package that is importable on ``sys.path`` (upstream Hermes,
``pip install hermes-agent``, ships one). Then only the fork's modules that package lacks are
added into it, as its submodules: a finder at the end of ``sys.meta_path`` answers for
``agent.identity_spec`` and ``agent.background_daemon_registry`` once every other finder has
said the real package has no such module, so nothing the package has is ever replaced, and the
package itself is not imported until a plugin imports it. :func:`uninstall` takes the finder and
the modules it added out again.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from ._daemons import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    PeriodicTaskSpec,
    background_daemon_registry,
    install_background_daemon_registry,
)
from ._identity import IdentityProvider, IdentitySpec
from ._listeners import install_listener_defaults

__all__ = [
    "ALIASES",
    "hold",
    "install",
    "installed",
    "is_installed",
    "isolated_defaults",
    "release",
    "uninstall",
]

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


# --- The fork's modules as submodules of a real ``agent`` package --------------------------------


def _alias_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name, f"Alias of reference_runtime for the fork's {name}.")
    setattr(module, _MARKER, True)
    values = dict(ALIASES[name]())
    module.__dict__.update(values)
    module.__all__ = sorted(values)  # type: ignore[attr-defined]
    return module


class _AliasLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _alias_module(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None  # the module is complete when created


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """Serves the fork's modules a real ``agent`` package lacks.

    It sits last on ``sys.meta_path``, so it is asked only after every other finder (the one
    that reads the real package's directory among them) found nothing under that name.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in ALIASES:
            return None
        parent = sys.modules.get("agent")
        if parent is None or getattr(parent, _MARKER, False):
            return None
        # A name the package itself defines (a function, a constant) is the package's own; an
        # alias this finder served before (and the import system bound) is not.
        existing = vars(parent).get(fullname.rpartition(".")[2])
        if existing is not None and not getattr(existing, _MARKER, False):
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader())


_FINDER: Final = _SubmoduleFinder()


def _add_into_real_package() -> None:
    if _FINDER in sys.meta_path:
        return
    sys.meta_path.append(_FINDER)
    _log.info(
        "a real 'agent' package is importable; it is left alone, and the fork's modules it "
        "lacks (%s) are added into it as submodules",
        ", ".join(sorted(ALIASES)),
    )


def _remove_from_real_package() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    parent = sys.modules.get("agent")
    if parent is None or getattr(parent, _MARKER, False):
        return
    for name in ALIASES:
        module = sys.modules.get(name)
        if module is None or not getattr(module, _MARKER, False):
            continue
        del sys.modules[name]
        attribute = name.rpartition(".")[2]
        if getattr(parent, attribute, None) is module:
            delattr(parent, attribute)


# --- Install and uninstall -----------------------------------------------------------------------


def is_installed() -> bool:
    """Whether the aliases are in ``sys.modules``, or being added into a real ``agent``."""
    return bool(getattr(sys.modules.get("agent"), _MARKER, False)) or _FINDER in sys.meta_path


def install() -> bool:
    """Make the fork's import paths importable; idempotent.

    :returns: ``True`` when the aliases are in place, ``False`` when a real ``agent`` package
        exists and was left alone: its own modules are then the ones plugins get, and the
        fork's modules it lacks are added into it as submodules.
    """
    if getattr(sys.modules.get("agent"), _MARKER, False):
        return True
    if _foreign_agent_present():
        _add_into_real_package()
        return False
    package = types.ModuleType("agent", "Compatibility aliases installed by reference_runtime.")
    package.__path__ = []
    setattr(package, _MARKER, True)
    sys.modules["agent"] = package
    for name in ALIASES:
        module = _alias_module(name)
        sys.modules[name] = module
        setattr(package, name.rpartition(".")[2], module)
    return True


def uninstall() -> None:
    """Remove the aliases installed by :func:`install`; a foreign ``agent`` is left alone
    (only the modules :func:`install` added into it are taken out)."""
    _remove_from_real_package()
    if not getattr(sys.modules.get("agent"), _MARKER, False):
        return
    for name in [*ALIASES, "agent"]:
        sys.modules.pop(name, None)


#: The objects (runtimes) currently holding the aliases through :func:`hold`.
_holders: weakref.WeakSet[object] = weakref.WeakSet()
#: Whether the aliases in ``sys.modules`` were installed for the holders (and so go with them).
_held_install = False
_hold_lock = threading.Lock()


def hold(owner: object) -> bool:
    """Install the aliases on behalf of ``owner`` until :func:`release` is called for it.

    Holds nest: the aliases go when the last holder releases them, and only if they were not
    already installed (by :func:`install`, say) when the first holder took them. This is what
    ``Runtime(..., install_compat=True)`` uses, so a closed runtime leaves no ``agent`` module
    behind for the next test to depend on. ``owner`` must be weak-referenceable (an instance
    of a plain class is); one garbage-collected without releasing stops counting as a holder,
    but does not remove the aliases.

    :returns: like :func:`install`; on ``False`` (a real ``agent`` package) ``owner`` holds
        nothing.
    """
    global _held_install  # noqa: PLW0603 - one process-wide hold count, like sys.modules
    with _hold_lock:
        if not is_installed():
            # Removed behind the holders' backs (uninstall(), a test restoring sys.modules):
            # their holds ended with the aliases.
            _holders.clear()
            if not install():
                return False
            _held_install = True
        elif not _holders:
            _held_install = False
        _holders.add(owner)
        return True


def release(owner: object) -> None:
    """Give up ``owner``'s hold; the last release removes aliases the holds installed.

    Releasing an object that holds nothing (or twice) does nothing.
    """
    global _held_install  # noqa: PLW0603 - see hold
    with _hold_lock:
        if owner not in _holders:
            return
        _holders.discard(owner)
        if not _holders and _held_install:
            _held_install = False
            uninstall()


@contextmanager
def installed() -> Iterator[bool]:
    """Install the aliases for the ``with`` block and remove them after, if this installed them."""
    already = is_installed()
    result = install()
    try:
        yield result
    finally:
        if not already:
            uninstall()


@contextmanager
def isolated_defaults() -> Iterator[None]:
    """Give the ``with`` block fresh process defaults, then put the old ones back.

    The process-default daemon registry, listener registry and listener singletons exist for
    fork-style code that registers at import. A host that loads the same plugins repeatedly in
    one process (a test harness does, once per test) uses this so nothing one load
    registered is seen by the next.
    """
    daemons = install_background_daemon_registry(None)
    listeners, singletons = install_listener_defaults(None)
    try:
        yield
    finally:
        install_background_daemon_registry(daemons)
        install_listener_defaults(listeners, singletons)
