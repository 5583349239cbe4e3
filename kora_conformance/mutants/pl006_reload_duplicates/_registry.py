"""The mutant's provider registry: a process-wide list filled by a decorator at import time.

This submodule is not re-executed when the package is reloaded, so the list keeps the providers
of every earlier import of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PROVIDERS: list[Callable[..., Any]] = []


def identity_provider(function: Callable[..., Any]) -> Callable[..., Any]:
    """Collect ``function`` for ``register`` to hand to the runtime."""
    if function not in PROVIDERS:
        PROVIDERS.append(function)
    return function
