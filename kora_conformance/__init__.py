"""The Kora conformance kit: certify plugins (and runtimes) against the Kora plugin contract.

Run it with ``pytest --kora-conformance``. This package also exposes the check catalog, the API
the packaged suites are written against, and (in :mod:`kora_conformance.strategies`) hypothesis
strategies for plugin authors' own tests.

Names load on first access: pytest imports this package for its plugin in every run, and a run
without ``--kora-conformance`` should not pay for the runtime or the suites.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._adapter import (
        ADAPTER_PROTOCOL_VERSION,
        IdentityOutcome,
        LoadSpec,
        ReferenceAdapter,
        RuntimeAdapter,
        RuntimeSession,
        reference_adapter,
    )
    from ._catalog import CATALOG, Check, by_id
    from ._check import CheckContext, KitOptions, Profile, Suite
    from ._errors import CheckFailed, KitError, NetworkBlocked, TargetError
    from ._targets import Target

__all__ = [
    "ADAPTER_PROTOCOL_VERSION",
    "CATALOG",
    "Check",
    "CheckContext",
    "CheckFailed",
    "IdentityOutcome",
    "KitError",
    "KitOptions",
    "LoadSpec",
    "NetworkBlocked",
    "Profile",
    "ReferenceAdapter",
    "RuntimeAdapter",
    "RuntimeSession",
    "Suite",
    "Target",
    "TargetError",
    "__version__",
    "by_id",
    "reference_adapter",
]

__version__ = "0.1.0"

_HOMES = {
    "ADAPTER_PROTOCOL_VERSION": "_adapter",
    "IdentityOutcome": "_adapter",
    "LoadSpec": "_adapter",
    "ReferenceAdapter": "_adapter",
    "RuntimeAdapter": "_adapter",
    "RuntimeSession": "_adapter",
    "reference_adapter": "_adapter",
    "CATALOG": "_catalog",
    "Check": "_catalog",
    "by_id": "_catalog",
    "CheckContext": "_check",
    "KitOptions": "_check",
    "Profile": "_check",
    "Suite": "_check",
    "CheckFailed": "_errors",
    "KitError": "_errors",
    "NetworkBlocked": "_errors",
    "TargetError": "_errors",
    "Target": "_targets",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'kora_conformance' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
