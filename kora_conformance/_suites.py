"""Finding the packaged suites and the checks they implement.

In an installed wheel the suites live in ``kora_conformance/suites``; in a source checkout, in
the top-level ``suites/`` directory beside the package. Each suite module defines ``suite``, a
:class:`~kora_conformance._check.Suite`.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

from ._catalog import CATALOG
from ._check import Implementation, Suite

__all__ = ["implementations", "suites_dir"]

_PACKAGE = "kora_conformance.suites"


def suites_dir() -> Path:
    """The directory holding the suite modules."""
    here = Path(__file__).resolve().parent
    packaged = here / "suites"
    return packaged if packaged.is_dir() else here.parent / "suites"


def _load(path: Path) -> Suite:
    name = f"{_PACKAGE}.{path.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    suite = getattr(module, "suite", None)
    if not isinstance(suite, Suite):
        msg = f"suite module {path} defines no 'suite = Suite(...)'"
        raise TypeError(msg)
    return suite


@cache
def implementations() -> dict[str, Implementation]:
    """Catalog ID → implementation, in catalog order, for every check the suites implement.

    :raises ValueError: two suites implement the same ID.
    """
    found: dict[str, Implementation] = {}
    for path in sorted(suites_dir().glob("*.py")):
        if path.name.startswith("_"):
            continue
        for impl in _load(path).implementations:
            if impl.check.id in found:
                msg = f"{impl.check.id} is implemented twice (second time in {path})"
                raise ValueError(msg)
            found[impl.check.id] = impl
    return {c.id: found[c.id] for c in CATALOG if c.id in found}
