"""Tool arguments generated from a tool's JSON Schema, with ``hypothesis-jsonschema``.

``hypothesis-jsonschema`` 0.23 builds objects with a private Hypothesis helper,
``conjecture.utils.many``, through its old interface (``elements.more()``, ``reject()``). Newer
Hypothesis releases turned ``many`` into a context manager iterated with ``for``, so every object
schema fails to draw (``AttributeError: 'many' object has no attribute 'more'``). Tool parameters
are always objects, so :func:`tool_arguments` gives the library the old interface on top of the
new one, and only when Hypothesis lacks it.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
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


def _install_stepwise_many() -> None:
    from hypothesis_jsonschema import _from_schema  # noqa: PLC0415 - patched once, on first use

    current = getattr(_from_schema, "cu", None)
    if hasattr(conjecture_utils.many, "more") or isinstance(current, types.SimpleNamespace):
        return
    shim = types.SimpleNamespace(**vars(conjecture_utils))
    shim.many = _StepwiseMany
    setattr(_from_schema, "cu", shim)  # noqa: B010 - the module does not export the name


def tool_arguments(parameters: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for the ``args`` mapping of a tool whose ``parameters`` schema is given.

    :raises Exception: whatever ``hypothesis-jsonschema`` raises for a schema it cannot cover
        (an unsupported format, an unsatisfiable schema).
    """
    from hypothesis_jsonschema import from_schema  # noqa: PLC0415 - only when tools exist

    _install_stepwise_many()
    strategy: st.SearchStrategy[Any] = from_schema(dict(parameters))
    return strategy
