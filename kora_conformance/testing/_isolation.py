"""Finding the plugin under test, and undoing what one test changed in the process."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from kora_conformance._contract import ENTRY_POINT_GROUPS
from kora_conformance._errors import TargetError
from kora_conformance.model._targets import Target, resolve_targets
from reference_runtime import (
    DIRECTORY_PACKAGE,
    compat,
    directory_plugins_restored,
)

__all__ = ["isolation", "resolve_plugin"]

#: Module names that always belong to plugins or to the compatibility aliases.
_PLUGIN_NAMESPACES: Final = ("agent", DIRECTORY_PACKAGE)
#: Environment variables a test starts without: they change what the runtime or a plugin does.
_DROPPED_ENV: Final = ("KORA_", "ANTHROPIC_", "HERMES_")


def resolve_plugin(source: str | os.PathLike[str], cwd: Path) -> Target:
    """The one plugin ``source`` names, found as ``--kora-conformance`` finds it: a plugin
    directory, a project directory declaring an entry point, or an installed plugin's
    entry-point name (relative paths from ``cwd``).

    :raises TargetError: ``source`` names no plugin, or several; the message says how to name
        the one to test.
    """
    how = (
        "pass --kora-plugin DIR|NAME, or override the kora_plugin_source fixture in your "
        "conftest.py to return the plugin to test"
    )
    try:
        targets, _ = resolve_targets([os.fspath(source)], cwd)
    except TargetError as exc:
        msg = f"the kora_plugin fixture found no plugin to test: {exc}; {how}"
        raise TargetError(msg) from None
    if len(targets) != 1:
        names = ", ".join(t.name for t in targets)
        msg = f"{os.fspath(source)} holds several plugins ({names}); {how}"
        raise TargetError(msg)
    return targets[0]


def _entry_point_packages(target: Target) -> set[str]:
    """Top-level packages of the target's entry point (its modules belong to the plugin)."""
    values = [target.entry_point[1]] if target.entry_point is not None else []
    if target.route == "entry_point" and not values:
        for group in ENTRY_POINT_GROUPS:
            values += [
                ep.value for ep in importlib.metadata.entry_points(group=group, name=target.name)
            ]
    return {value.partition(":")[0].strip().partition(".")[0] for value in values if value}


def _owned(name: str, module: object, roots: Sequence[Path], packages: set[str]) -> bool:
    top = name.partition(".")[0]
    if top in _PLUGIN_NAMESPACES or top in packages:
        return True
    location = getattr(module, "__file__", None)
    if not location:
        return False
    path = Path(location)
    return any(path.is_relative_to(root) for root in roots)


@contextlib.contextmanager
def isolation(
    home: Path, *, target: Target | None = None, scratch: Path | None = None
) -> Iterator[None]:
    """Run one test in isolation from the others.

    Inside the block: ``$HOME`` is ``home`` (and ``$HERMES_HOME`` is ``home/.hermes``), no
    ``KORA_*``, ``ANTHROPIC_*`` or ``HERMES_*`` variable is inherited, the fork's ``agent.*``
    import aliases are installed, the process-default daemon and listener registries are
    fresh, and the plugin's modules (``hermes_plugins.*`` for a directory plugin, the package
    of ``target``'s entry point, modules under ``home`` or ``scratch``) are not imported yet,
    so the plugin imports afresh.

    After it: the environment, ``sys.path``, ``sys.meta_path`` and the registries are as they
    were, the aliases are gone (unless they were installed before), the plugin's modules
    imported inside are dropped and those imported before are put back. Other libraries
    imported inside (an SDK loaded lazily) stay imported: they hold no test's state.
    """
    roots = [home] + ([scratch] if scratch is not None else [])
    packages = _entry_point_packages(target) if target is not None else set()
    # Both spellings: a module's __file__ keeps the path it was imported by (a symlinked /tmp).
    resolved_roots = [*roots, *(r.resolve() for r in roots)]
    saved_modules = dict(sys.modules)
    set_aside = {n: m for n, m in saved_modules.items() if _owned(n, m, resolved_roots, packages)}
    saved_path, saved_meta_path = list(sys.path), list(sys.meta_path)
    saved_environ = dict(os.environ)
    for name in set_aside:
        del sys.modules[name]
    for variable in [v for v in os.environ if v.startswith(_DROPPED_ENV)]:
        del os.environ[variable]
    os.environ["HOME"] = str(home)
    os.environ["HERMES_HOME"] = str(home / ".hermes")
    importlib.invalidate_caches()
    try:
        with compat.installed(), compat.isolated_defaults(), directory_plugins_restored():
            yield
    finally:
        for name, module in list(sys.modules.items()):
            if name not in saved_modules and _owned(name, module, resolved_roots, packages):
                del sys.modules[name]
        for name, module in saved_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        sys.path[:] = saved_path
        sys.meta_path[:] = saved_meta_path
        if dict(os.environ) != saved_environ:
            os.environ.clear()
            os.environ.update(saved_environ)
        importlib.invalidate_caches()
