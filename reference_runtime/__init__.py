"""A minimal, real runtime for the Kora plugin contract.

It discovers plugins, loads them in ``plugins.enabled`` order on pluggy, resolves the agent's
identity through ``pre_agent_identity_set`` and sends it to the Messages API.
"""

from __future__ import annotations

from ._clock import DEFAULT_EPOCH, Clock, RealClock, VirtualClock
from ._config import DEFAULT_ENTRY_POINT_GROUPS, RuntimeConfig, env_flag, load_config
from ._context import PluginContext
from ._coordinator import Coordinator
from ._daemons import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    DaemonHost,
    PeriodicCallable,
    PeriodicTaskSpec,
    ShutdownCallable,
    StartupCallable,
    background_daemon_registry,
    install_background_daemon_registry,
    same_daemon,
)
from ._discovery import Candidate, Discovery, Shadowing, Skipped, discover
from ._dispatch import Attributed, Dispatcher, describe_callable, resolve_awaitable
from ._dual import DualRegistration, register_dual_listener
from ._engine import DEFAULT_MODEL, ReasoningEngine
from ._errors import (
    ConfigError,
    DaemonSpecError,
    DuplicateDaemonError,
    EngineNotConfiguredError,
    IdentityResolutionError,
    IdentitySpecError,
    KoraError,
    LLMUnavailableError,
    ManifestError,
    NotRegisteredError,
    PluginLoadError,
    RegistrationError,
    RegistrationRuleError,
    SkillPathError,
    ToolOverrideError,
)
from ._fire import Fire, StartedDaemon, current_fire
from ._hookspecs import HERMES_HOOKS, IDENTITY_HOOK, KNOWN_HOOKS, hookimpl, hookspec
from ._identity import IdentityProvider, IdentitySpec, ResolvedIdentity, read_fallback_identity
from ._listeners import (
    DEFAULT_LISTENER_SHUTDOWN_TIMEOUT,
    DaemonListener,
    ListenerFactory,
    ListenerRegistry,
    ListenerTask,
    ResolvedListener,
    install_listener_defaults,
    listener_registry,
)
from ._llm import BackendHolder, LLMBackend, PluginLLM
from ._load_report import LoadedPlugin, LoadReport
from ._loading import DIRECTORY_PACKAGE, directory_plugins_restored
from ._manifest import KNOWN_MANIFEST_KEYS, Manifest, find_manifest, load_manifest
from ._manifest_view import UPSTREAM_MANIFEST_DEFAULTS, ManifestView
from ._plugin_host import PluginHost
from ._registrations import CommandRecord, Registration, RegistrationStore, ToolRecord
from ._runtime import Runtime
from ._surface import (
    BUILTIN_CLI_COMMANDS,
    BUILTIN_COMMANDS,
    HERMES_SURFACE,
    MIDDLEWARE_KINDS,
    PROMPT_SECTION_LIMITS,
    PROVIDER_OBJECTS,
    provider_name,
    surface_method,
)
from ._surface_rules import SurfaceCall, SurfaceMethod, SurfaceParam, SurfaceRule, SurfaceScope
from ._timeline import EventKind, TimelineEvent
from ._waits import WorkerThread

__all__ = [
    "BUILTIN_CLI_COMMANDS",
    "BUILTIN_COMMANDS",
    "DEFAULT_ENTRY_POINT_GROUPS",
    "DEFAULT_EPOCH",
    "DEFAULT_LISTENER_SHUTDOWN_TIMEOUT",
    "DEFAULT_MODEL",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "DIRECTORY_PACKAGE",
    "HERMES_HOOKS",
    "HERMES_SURFACE",
    "IDENTITY_HOOK",
    "KNOWN_HOOKS",
    "KNOWN_MANIFEST_KEYS",
    "MIDDLEWARE_KINDS",
    "PROMPT_SECTION_LIMITS",
    "PROVIDER_OBJECTS",
    "UPSTREAM_MANIFEST_DEFAULTS",
    "Attributed",
    "BackendHolder",
    "BackgroundDaemonEntry",
    "BackgroundDaemonRegistry",
    "Candidate",
    "Clock",
    "CommandRecord",
    "ConfigError",
    "Coordinator",
    "DaemonHost",
    "DaemonListener",
    "DaemonSpecError",
    "Discovery",
    "Dispatcher",
    "DualRegistration",
    "DuplicateDaemonError",
    "EngineNotConfiguredError",
    "EventKind",
    "Fire",
    "IdentityProvider",
    "IdentityResolutionError",
    "IdentitySpec",
    "IdentitySpecError",
    "KoraError",
    "LLMBackend",
    "LLMUnavailableError",
    "ListenerFactory",
    "ListenerRegistry",
    "ListenerTask",
    "LoadReport",
    "LoadedPlugin",
    "Manifest",
    "ManifestError",
    "ManifestView",
    "NotRegisteredError",
    "PeriodicCallable",
    "PeriodicTaskSpec",
    "PluginContext",
    "PluginHost",
    "PluginLLM",
    "PluginLoadError",
    "RealClock",
    "ReasoningEngine",
    "Registration",
    "RegistrationError",
    "RegistrationRuleError",
    "RegistrationStore",
    "ResolvedIdentity",
    "ResolvedListener",
    "Runtime",
    "RuntimeConfig",
    "Shadowing",
    "ShutdownCallable",
    "SkillPathError",
    "Skipped",
    "StartedDaemon",
    "StartupCallable",
    "SurfaceCall",
    "SurfaceMethod",
    "SurfaceParam",
    "SurfaceRule",
    "SurfaceScope",
    "TimelineEvent",
    "ToolOverrideError",
    "ToolRecord",
    "VirtualClock",
    "WorkerThread",
    "__version__",
    "background_daemon_registry",
    "current_fire",
    "describe_callable",
    "directory_plugins_restored",
    "discover",
    "env_flag",
    "find_manifest",
    "hookimpl",
    "hookspec",
    "install_background_daemon_registry",
    "install_listener_defaults",
    "listener_registry",
    "load_config",
    "load_manifest",
    "provider_name",
    "read_fallback_identity",
    "register_dual_listener",
    "resolve_awaitable",
    "same_daemon",
    "surface_method",
]

__version__ = "0.1.0"

for _name in __all__:
    _obj = globals()[_name]
    # Type aliases such as Callable[..., X] pass isinstance(_, type) on Python 3.10 but keep
    # their own module.
    if isinstance(_obj, type) and getattr(_obj, "__origin__", None) is None:
        _obj.__module__ = __name__
del _name, _obj
