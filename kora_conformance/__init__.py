"""The Kora conformance kit: certify plugins (and runtimes) against the Kora plugin contract.

Run it with ``pytest --kora-conformance``. This package also exposes the check catalog, the API
the packaged suites are written against (``Suite``, ``CheckContext`` and the applicability
predicates: a third party's suite uses the same names), the runtime adapter protocol (also in
:mod:`kora_conformance.adapter`), and (in :mod:`kora_conformance.strategies`) hypothesis
strategies for plugin authors' own tests.

Names load on first access: pytest imports this package for its plugin in every run, and a run
without ``--kora-conformance`` should not pay for the runtime or the suites.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kora_conformance._contract import (
        DAEMON_NAME,
        ENTRY_POINT_GROUPS,
        ENV_DISABLE_IDENTITY_PROVIDER,
        ENV_SYSTEM_PROMPT_PATH,
        IDENTITY_HOOK,
        MODEL,
        PRIMARY_ENTRY_POINT_GROUP,
    )
    from kora_conformance._errors import (
        CheckFailed,
        CheckSkipped,
        KitError,
        NetworkBlocked,
        TargetError,
    )
    from kora_conformance.adapter import (
        ADAPTER_PROTOCOL_VERSION,
        IdentityOutcome,
        LoadSpec,
        ReferenceAdapter,
        RuntimeAdapter,
        RuntimeSession,
        reference_adapter,
    )
    from kora_conformance.model._catalog import (
        CATALOG,
        Check,
        by_id,
    )
    from kora_conformance.model._check import (
        Applicability,
        CheckContext,
        KitOptions,
        Profile,
        Suite,
        all_of,
        always,
        needs_callbacks,
        needs_commands,
        needs_daemons,
        needs_identity,
        needs_load,
        needs_manifest,
        needs_tools,
    )
    from kora_conformance.model._coverage import (
        registrations_of,
    )
    from kora_conformance.model._targets import (
        Target,
    )

__all__ = [
    "ADAPTER_PROTOCOL_VERSION",
    "CATALOG",
    "DAEMON_NAME",
    "ENTRY_POINT_GROUPS",
    "ENV_DISABLE_IDENTITY_PROVIDER",
    "ENV_SYSTEM_PROMPT_PATH",
    "IDENTITY_HOOK",
    "MODEL",
    "PRIMARY_ENTRY_POINT_GROUP",
    "Applicability",
    "Check",
    "CheckContext",
    "CheckFailed",
    "CheckSkipped",
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
    "all_of",
    "always",
    "by_id",
    "needs_callbacks",
    "needs_commands",
    "needs_daemons",
    "needs_identity",
    "needs_load",
    "needs_manifest",
    "needs_tools",
    "reference_adapter",
    "registrations_of",
]

__version__ = "0.1.0"

_HOMES = {
    "DAEMON_NAME": "_contract",
    "ENTRY_POINT_GROUPS": "_contract",
    "ENV_DISABLE_IDENTITY_PROVIDER": "_contract",
    "ENV_SYSTEM_PROMPT_PATH": "_contract",
    "IDENTITY_HOOK": "_contract",
    "MODEL": "_contract",
    "PRIMARY_ENTRY_POINT_GROUP": "_contract",
    "ADAPTER_PROTOCOL_VERSION": "adapter",
    "IdentityOutcome": "adapter",
    "LoadSpec": "adapter",
    "ReferenceAdapter": "adapter",
    "RuntimeAdapter": "adapter",
    "RuntimeSession": "adapter",
    "reference_adapter": "adapter",
    "CATALOG": "model._catalog",
    "Check": "model._catalog",
    "by_id": "model._catalog",
    "Applicability": "model._check",
    "CheckContext": "model._check",
    "KitOptions": "model._check",
    "Profile": "model._check",
    "Suite": "model._check",
    "all_of": "model._check",
    "always": "model._check",
    "needs_callbacks": "model._check",
    "needs_commands": "model._check",
    "needs_daemons": "model._check",
    "needs_identity": "model._check",
    "needs_load": "model._check",
    "needs_manifest": "model._check",
    "needs_tools": "model._check",
    "CheckFailed": "_errors",
    "CheckSkipped": "_errors",
    "KitError": "_errors",
    "NetworkBlocked": "_errors",
    "TargetError": "_errors",
    "Target": "model._targets",
    "registrations_of": "model._coverage",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module 'kora_conformance' has no attribute {name!r}"
        raise AttributeError(msg)
    # Not cached in this module's globals: a harness that drops and re-imports the kit's
    # modules (pytester's in-process runs do) must get the class the re-imported modules use.
    return getattr(importlib.import_module(f".{home}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
