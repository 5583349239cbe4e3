"""Isolation for one check: whatever a plugin changes in the process is undone afterwards.

Inside a sandbox the fork's import aliases are installed, the network is blocked, the
process-default registries and listener singletons are fresh, and a scratch directory is
available, with ``HOME`` and ``HERMES_HOME`` pointing into it; no byte-code is written (a
directory plugin is imported where it lives). On exit the kit restores
``sys.modules`` (dropping the plugin's modules so the next check imports it afresh),
``sys.path``, the environment and the aliases. A package that imported an extension module
during the check stays imported, since such a module cannot be initialised twice in a process.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import tempfile
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kora_conformance.isolation._netguard import NetworkGuard, network_guard
from reference_runtime import compat

__all__ = ["Sandbox", "sandbox"]

# Modules under these names always belong to plugins (or to the aliases) and must be re-imported
# by the next check, even when a package of the same top-level name was already loaded.
_PLUGIN_NAMESPACES = ("hermes_plugins", "agent")


class Sandbox:
    """What a check can use from its sandbox."""

    def __init__(self, scratch: Path, guard: NetworkGuard) -> None:
        #: A private directory, deleted when the sandbox closes.
        self.scratch = scratch
        #: The network guard; ``attempts`` lists what was blocked.
        self.network = guard


def _is_extension(module: types.ModuleType | None) -> bool:
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and filename.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )


def _restore_modules(before: dict[str, types.ModuleType]) -> None:
    loaded_top = {name.partition(".")[0] for name in before}
    # A package that brought in an extension module stays imported: an extension module cannot
    # be initialised twice in one process (numpy refuses to), so the next check must find the
    # package already there rather than import it afresh.
    loaded_top |= {
        name.partition(".")[0]
        for name, module in list(sys.modules.items())
        if name not in before and _is_extension(module)
    }
    for name in list(sys.modules):
        if name in before:
            continue
        top = name.partition(".")[0]
        # A submodule of a package that was already imported (a lazy SDK import, say) stays:
        # dropping it would leave its parent pointing at a module nobody else sees.
        if top in loaded_top and top not in _PLUGIN_NAMESPACES:
            continue
        del sys.modules[name]
    for name, module in before.items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """Run a check in isolation; see the module docstring for what is restored."""
    modules = dict(sys.modules)
    path = list(sys.path)
    environ = dict(os.environ)
    compat_before = compat.is_installed()
    compat.install()
    importlib.invalidate_caches()
    # A directory plugin is imported where it lives; byte-code written there would be the
    # kit's mark on the plugin's project, which a certification leaves as it found it.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        with (
            # A thread the plugin left running (a log writer, say) may still be adding files
            # while the directory is removed; what it leaves is not the check's outcome, so
            # the removal does its best and never ends the check in an error.
            tempfile.TemporaryDirectory(
                prefix="kora-check-", ignore_cleanup_errors=True
            ) as scratch,
            network_guard() as guard,
            compat.isolated_defaults(),
        ):
            home = Path(scratch) / "home"
            (home / ".hermes").mkdir(parents=True)
            # A plugin that writes under ~ (or the Hermes home) writes into the sandbox, never
            # into the real home of whoever runs the certification.
            os.environ["HOME"] = str(home)
            os.environ["HERMES_HOME"] = str(home / ".hermes")
            yield Sandbox(Path(scratch), guard)
    finally:
        sys.dont_write_bytecode = writes_bytecode
        if not compat_before:
            compat.uninstall()
        _restore_modules(modules)
        sys.path[:] = path
        if dict(os.environ) != environ:
            os.environ.clear()
            os.environ.update(environ)
        importlib.invalidate_caches()
