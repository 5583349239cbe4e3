"""Tool arguments generated from a tool's JSON Schema, with ``hypothesis-jsonschema``.

``hypothesis-jsonschema`` 0.23 builds objects with a private Hypothesis helper,
``conjecture.utils.many``, through its old interface (``elements.more()``, ``reject()``). Newer
Hypothesis releases turned ``many`` into a context manager iterated with ``for``, so every object
schema fails to draw (``AttributeError: 'many' object has no attribute 'more'``). Tool parameters
are always objects, so :func:`tool_arguments` gives the library the old interface on top of the
new one, and only when Hypothesis lacks it.

Still needed, and verified, with Hypothesis 6.170.17 and hypothesis-jsonschema 0.23.1 (the
release installed here, whose ``_from_schema`` still calls ``cu.many(...).more()``): the
kit cannot drop the private reach without dropping hypothesis-jsonschema. The shim is applied
only when both halves of the mismatch are there (Hypothesis' ``many`` has no ``more`` and the
library module still goes through ``cu``), so a fixed release of either makes it a no-op;
``tests/test_space_surface.py`` draws object schemas, and fails if the two drift apart again.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils

__all__ = ["tool_arguments"]


class _StepwiseMany:
    """The old ``many(...).more()`` interface, driving the new ``with``/``for`` one a step at a
    time: each ``more()`` is one turn of the ``for`` loop, and the last one leaves the ``with``."""

    def __init__(self, data: Any, **sizes: Any) -> None:
        self._many = conjecture_utils.many(data, **sizes)
        self._many.__enter__()
        self._steps: Iterator[None] | None = iter(self._many)

    def more(self) -> bool:
        if self._steps is None:
            return False
        try:
            next(self._steps)
        except StopIteration:
            self._steps = None
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


#: ``hypothesis_jsonschema.from_schema``, imported on first use and kept here: importing it
#: reads Hypothesis' character tables, which must not happen while pytest starts, and a check's
#: sandbox drops modules first imported inside it, so without this every check re-imported it.
_FROM_SCHEMA: list[Callable[..., Any]] = []


def _from_schema() -> Callable[..., Any]:
    if not _FROM_SCHEMA:
        from hypothesis_jsonschema import _from_schema as module  # noqa: PLC0415

        if not hasattr(conjecture_utils.many, "more") and hasattr(module, "cu"):
            shim = types.SimpleNamespace(**vars(conjecture_utils))
            shim.many = _StepwiseMany
            setattr(module, "cu", shim)  # noqa: B010 - the module does not export the name
        _FROM_SCHEMA.append(module.from_schema)
    return _FROM_SCHEMA[0]


def tool_arguments(parameters: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for the ``args`` mapping of a tool whose ``parameters`` schema is given.

    :raises Exception: whatever ``hypothesis-jsonschema`` raises for a schema it cannot cover
        (an unsupported format, an unsatisfiable schema).
    """
    strategy: st.SearchStrategy[Any] = _from_schema()(dict(parameters))
    return strategy
