"""The mutant's middleware registry: a process-wide list a decorator fills at import time.

This submodule is not re-executed when the package is reloaded, so the list keeps the
middleware of every earlier import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MIDDLEWARE: list[tuple[str, Callable[..., Any]]] = []


def middleware(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Collect the decorated function as ``kind`` middleware."""

    def collect(function: Callable[..., Any]) -> Callable[..., Any]:
        if (kind, function) not in MIDDLEWARE:
            MIDDLEWARE.append((kind, function))
        return function

    return collect
