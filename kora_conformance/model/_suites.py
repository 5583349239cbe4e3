"""Finding the packaged suites and the checks they implement.

The suites are the package ``kora_conformance.suites`` (see its docstring for the layout): every
public module of its subpackages defines ``suite``, a :class:`~kora_conformance.model._check.Suite`.
They are imported under their own names, like any module, so a check's traceback, a pickled
reference and a third party's import all name the same module.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from kora_conformance.model._catalog import CATALOG
from kora_conformance.model._check import Implementation, Suite

__all__ = ["implementations", "suite_modules", "suites_dir"]

_PACKAGE = "kora_conformance.suites"


def suites_dir() -> Path:
    """The directory holding the suites package."""
    return Path(_package().__file__ or "").resolve().parent


def _package() -> ModuleType:
    return importlib.import_module(_PACKAGE)


def suite_modules() -> list[ModuleType]:
    """Every public module of the suites' areas, imported, in name order."""
    modules = []
    for info in sorted(
        pkgutil.walk_packages(_package().__path__, prefix=f"{_PACKAGE}."), key=lambda i: i.name
    ):
        if info.ispkg or any(part.startswith("_") for part in info.name.split(".")[2:]):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _suite_of(module: ModuleType) -> Suite:
    suite = getattr(module, "suite", None)
    if not isinstance(suite, Suite):
        msg = f"suite module {module.__name__} defines no 'suite = Suite(...)'"
        raise TypeError(msg)
    return suite


#: The suite modules the last answer came from, and that answer (one entry at most).
_FOUND: dict[str, tuple[tuple[ModuleType, ...], dict[str, Implementation]]] = {}


def implementations() -> dict[str, Implementation]:
    """Catalog ID → implementation, in catalog order, for every check the suites implement.

    Computed once, and again only if one of the suite modules it came from is no longer the one
    imported under its name: a harness that drops and re-imports modules (pytester's
    in-process runs do) must not get checks whose globals belong to the modules it dropped.

    :raises ValueError: two suites implement the same ID.
    """
    last = _FOUND.get(_PACKAGE)
    if last is not None and all(sys.modules.get(m.__name__) is m for m in last[0]):
        return last[1]
    modules = suite_modules()
    found: dict[str, Implementation] = {}
    for module in modules:
        for impl in _suite_of(module).implementations:
            if impl.check.id in found:
                msg = f"{impl.check.id} is implemented twice (second time in {module.__name__})"
                raise ValueError(msg)
            found[impl.check.id] = impl
    ordered = {c.id: found[c.id] for c in CATALOG if c.id in found}
    _FOUND[_PACKAGE] = (tuple(modules), ordered)
    return ordered
