"""A minimal, real runtime for the Kora plugin contract.

It discovers plugins, loads them in ``plugins.enabled`` order on pluggy, resolves the agent's
identity through ``pre_agent_identity_set`` and sends it to the Messages API.
"""

from __future__ import annotations

from ._config import RuntimeConfig, env_flag, load_config
from ._context import PluginContext
from ._discovery import Candidate, Discovery, Shadowing, discover
from ._engine import ReasoningEngine
from ._errors import (
    ConfigError,
    DaemonSpecError,
    DuplicateDaemonError,
    EngineNotConfiguredError,
    IdentityResolutionError,
    IdentitySpecError,
    KoraError,
    ManifestError,
    PluginLoadError,
    RegistrationError,
)
from ._hookspecs import HERMES_HOOKS, IDENTITY_HOOK, KNOWN_HOOKS, hookimpl, hookspec
from ._identity import IdentityProvider, IdentitySpec, ResolvedIdentity
from ._manifest import Manifest, load_manifest
from ._runtime import LoadedPlugin, LoadReport, Runtime

__all__ = [
    "HERMES_HOOKS",
    "IDENTITY_HOOK",
    "KNOWN_HOOKS",
    "Candidate",
    "ConfigError",
    "DaemonSpecError",
    "Discovery",
    "DuplicateDaemonError",
    "EngineNotConfiguredError",
    "IdentityProvider",
    "IdentityResolutionError",
    "IdentitySpec",
    "IdentitySpecError",
    "KoraError",
    "LoadReport",
    "LoadedPlugin",
    "Manifest",
    "ManifestError",
    "PluginContext",
    "PluginLoadError",
    "ReasoningEngine",
    "RegistrationError",
    "ResolvedIdentity",
    "Runtime",
    "RuntimeConfig",
    "Shadowing",
    "__version__",
    "discover",
    "env_flag",
    "hookimpl",
    "hookspec",
    "load_config",
    "load_manifest",
]

__version__ = "0.1.0"

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = __name__
del _name, _obj
