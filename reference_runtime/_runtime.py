"""The runtime: loads plugins in ``plugins.enabled`` order and dispatches their hooks."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import traceback
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from . import compat
from ._clock import Clock
from ._config import ENV_SYSTEM_PROMPT_PATH, RuntimeConfig
from ._context import PluginContext
from ._coordinator import Coordinator
from ._daemons import BackgroundDaemonEntry, BackgroundDaemonRegistry
from ._discovery import Candidate, Discovery, Shadowing, discover
from ._dispatch import Dispatcher, resolve_awaitable
from ._errors import IdentityResolutionError, PluginLoadError
from ._hookspecs import IDENTITY_HOOK
from ._identity import IdentityProvider, IdentitySpec, ResolvedIdentity
from ._listeners import ListenerRegistry
from ._loading import load_register
from ._manifest import Manifest

__all__ = ["LoadReport", "LoadedPlugin", "Runtime", "read_fallback_identity"]

_log = logging.getLogger("reference_runtime")

_R = TypeVar("_R", bound="Runtime")


@dataclasses.dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that loaded, and what it registered."""

    key: str
    route: Literal["directory", "entry_point"]
    origin: str
    manifest: Manifest
    module: types.ModuleType | None
    hooks: tuple[tuple[str, Callable[..., Any]], ...]
    identity_providers: tuple[IdentityProvider, ...]
    daemons: tuple[BackgroundDaemonEntry, ...] = ()
    listeners: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def hook_names(self) -> tuple[str, ...]:
        """Distinct hook names registered, first registration first."""
        return tuple(dict.fromkeys(name for name, _ in self.hooks))


@dataclasses.dataclass
class LoadReport:
    """What :meth:`Runtime.load` did, for operators and the conformance kit.

    :ivar loaded: plugins that loaded, in precedence order.
    :ivar errors: plugin key → why it failed (import, ``register`` or manifest).
    :ivar missing: enabled names that discovery did not find.
    :ivar disabled: enabled names skipped because ``plugins.disabled`` lists them.
    :ivar shadowed: same-key copies hidden by another source.
    :ivar warnings: non-fatal findings (unknown hook names, unknown manifest keys).
    """

    loaded: list[LoadedPlugin] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    missing: list[str] = dataclasses.field(default_factory=list)
    disabled: list[str] = dataclasses.field(default_factory=list)
    shadowed: list[Shadowing] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def plugin(self, key: str) -> LoadedPlugin | None:
        """The loaded plugin named ``key``, if it loaded."""
        return next((p for p in self.loaded if p.key == key), None)


def read_fallback_identity(
    explicit: Path | None,
    default: Path,
    environ: Mapping[str, str] | None = None,
) -> ResolvedIdentity:
    """Read the fallback system prompt: ``explicit`` > ``$KORA_SYSTEM_PROMPT_PATH`` > ``default``.

    :raises IdentityResolutionError: the file is missing, unreadable or blank. The message names
        the path, where it came from, and the variable that overrides it.
    """
    env = (os.environ if environ is None else environ).get(ENV_SYSTEM_PROMPT_PATH, "").strip()
    if explicit is not None:
        path, source = Path(explicit), "the system_prompt_path argument"
    elif env:
        path, source = Path(env), f"${ENV_SYSTEM_PROMPT_PATH}"
    else:
        path, source = Path(default), "the runtime's default path"
    path = path.expanduser()
    fix = (
        f"enable an identity plugin, or point {ENV_SYSTEM_PROMPT_PATH} (or --system-prompt-path) "
        "at a non-blank prompt file"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        missing = isinstance(exc, FileNotFoundError)
        reason = "does not exist" if missing else f"cannot be read ({exc})"
        msg = (
            f"no identity provider claimed the identity and the fallback system prompt {path} "
            f"(from {source}) {reason}; {fix}"
        )
        raise IdentityResolutionError(msg, path=path) from exc
    if not text.strip():
        msg = (
            f"no identity provider claimed the identity and the fallback system prompt {path} "
            f"(from {source}) is blank; {fix}"
        )
        raise IdentityResolutionError(msg, path=path)
    return ResolvedIdentity(IdentitySpec("", text), "file", path=path)


class Runtime:
    """A plugin host: discovery, loading, hooks and identity resolution.

    :param config: what to load; an empty configuration loads nothing.
    :param install_compat: make the fork's ``agent.*`` import paths available before loading
        (see :mod:`reference_runtime.compat`), for plugins written against the fork, until
        :meth:`close` (``with Runtime(...) as runtime:`` closes it at the end of the block).

    Extension seams: the classes below and :meth:`import_plugin` are what a subclass replaces to
    build a variant runtime (the conformance kit's deliberately broken runtimes do). They are
    not configuration; the defaults are the contract's behaviour.
    """

    #: The registration context each plugin's ``register(ctx)`` receives.
    context_class: ClassVar[type[PluginContext]] = PluginContext
    #: The class of this runtime's daemon registry (:attr:`daemons`).
    daemon_registry_class: ClassVar[type[BackgroundDaemonRegistry]] = BackgroundDaemonRegistry
    #: The class :meth:`coordinator` instantiates.
    coordinator_class: ClassVar[type[Coordinator]] = Coordinator

    def __init__(
        self, config: RuntimeConfig | None = None, *, install_compat: bool = False
    ) -> None:
        self.config = config if config is not None else RuntimeConfig()
        self._install_compat = install_compat
        self._dispatcher = Dispatcher()
        #: This runtime's daemon registry (the daemon side).
        self.daemons = self.daemon_registry_class()
        #: This runtime's listener registry (the listener side).
        self.listeners = ListenerRegistry()
        self._contexts: dict[str, PluginContext] = {}
        self._report: LoadReport | None = None

    def close(self) -> None:
        """Give back what this runtime holds in the process: the compatibility aliases it
        installed go once no other open runtime holds them. Closing twice is harmless; the
        plugins' modules stay imported."""
        compat.release(self)

    def __enter__(self: _R) -> _R:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def plugin_manager(self) -> Any:
        """The underlying :class:`pluggy.PluginManager`."""
        return self._dispatcher.manager

    @property
    def report(self) -> LoadReport:
        """The load report; loads first if :meth:`load` has not run."""
        return self.load()

    def discover(self) -> Discovery:
        """Find candidate plugins without importing anything."""
        return discover(self.config.plugin_dirs, self.config.entry_point_groups)

    def load(self) -> LoadReport:
        """Discover and load the enabled plugins, once; later calls return the same report.

        Plugins load in ``plugins.enabled`` order. A plugin that fails to import or register is
        recorded in :attr:`LoadReport.errors` with its partial registrations rolled back, and the
        others still load.
        """
        if self._report is not None:
            return self._report
        if self._install_compat:
            compat.hold(self)
        report = LoadReport()
        found = self.discover()
        report.shadowed.extend(_enabled_only(found.shadowed, self.config.enabled))
        for key in self.config.enabled:
            if key in self.config.disabled:
                report.disabled.append(key)
                continue
            candidate = found.candidates.get(key)
            if candidate is None:
                where = ", ".join(str(d) for d in self.config.plugin_dirs) or "no plugin dirs"
                groups = ", ".join(self.config.entry_point_groups) or "none"
                warning = (
                    f"plugin {key!r} is enabled but was not found (searched {where}; "
                    f"entry-point groups: {groups}); install it or add its directory"
                )
                _log.warning("%s", warning)
                report.missing.append(key)
                report.warnings.append(warning)
                continue
            if candidate.error is not None:
                _log.warning("%s", candidate.error)
                report.errors[key] = candidate.error
                continue
            assert candidate.manifest is not None
            if candidate.manifest.unknown_keys:
                report.warnings.append(
                    f"plugin {key!r}: manifest has unknown keys "
                    f"{', '.join(candidate.manifest.unknown_keys)} (kept, not interpreted)"
                )
            try:
                register, module = self.import_plugin(candidate)
                context = self.register_plugin(candidate.manifest, register, module)
            except Exception as exc:  # noqa: BLE001 - one bad plugin must not stop the others
                message = _failure_message(key, candidate.origin, exc)
                _log.warning("%s", message)
                report.errors[key] = message
                continue
            self._contexts[key] = context
            report.warnings.extend(context.warnings)
            report.loaded.append(
                LoadedPlugin(
                    key=key,
                    route=candidate.route,
                    origin=candidate.origin,
                    manifest=candidate.manifest,
                    module=module,
                    hooks=context.hooks,
                    identity_providers=tuple(context.identity_providers),
                    daemons=context.daemon_entries,
                    listeners=context.listener_names,
                )
            )
        self._report = report
        return report

    def register_plugin(
        self,
        manifest: Manifest,
        register: Callable[[Any], Any],
        module: types.ModuleType | None = None,
    ) -> PluginContext:
        """Run an imported plugin's ``register`` into this runtime, as :meth:`load` does.

        ``register`` gets a new :attr:`context_class` context for ``manifest``; an awaitable it
        returns is awaited; what the plugin's modules (``register``'s module and ``module``)
        registered into the process-default registries is taken in; then everything staged is
        committed. Called again for a loaded plugin, it registers that plugin again, as a
        re-import registering into the live registries would; unlike :meth:`load`, it records
        nothing in the load report.

        :returns: the committed context.
        :raises Exception: whatever ``register`` raises (nothing was applied), or the commit's
            error (such as :class:`DuplicateDaemonError`), after rolling the commit back.
        """
        context = self.context_class(manifest, self)
        outcome = register(context)
        if inspect.isawaitable(outcome):
            resolve_awaitable(outcome)
        prefixes = {register.__module__, getattr(module, "__name__", None)}
        context._adopt_process_defaults({p for p in prefixes if p})
        context._commit()
        return context

    def import_plugin(
        self, candidate: Candidate
    ) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
        """Import a discovered plugin; return its ``register`` callable and module.

        The default accepts both entry-point forms (see
        :func:`~reference_runtime._loading.load_register`); exceptions from the plugin's own code
        propagate for :meth:`load` to record.
        """
        return load_register(candidate)

    def context(self, key: str) -> PluginContext | None:
        """The context a loaded plugin registered through."""
        self.load()
        return self._contexts.get(key)

    def invoke_hook(self, name: str, **kwargs: Any) -> list[Any]:
        """Call every callback for hook ``name`` with ``kwargs``, in plugin order.

        Each callback's exception is logged and isolated; ``None`` results are dropped and the
        rest returned in order. The identity hook stops at its first valid claim.
        """
        return [value for _, value in self.invoke_hook_attributed(name, **kwargs)]

    def invoke_hook_attributed(self, name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`invoke_hook`, pairing each result with the plugin that returned it."""
        self.load()
        return [(item.plugin, item.value) for item in self._dispatcher.call(name, kwargs)]

    def coordinator(self, *, clock: Clock | None = None, **options: Any) -> Coordinator:
        """A coordinator for this runtime's daemons and listeners (loading first).

        :param clock: real time by default; pass a ``VirtualClock`` to run in virtual time.
        :param options: further :class:`~reference_runtime.Coordinator` options.
        """
        self.load()
        return self.coordinator_class(
            self.daemons.list_entries(), self.listeners, clock=clock, **options
        )

    def resolve_identity(
        self, *, engine: Any = None, system_prompt_path: Path | None = None, **context: Any
    ) -> ResolvedIdentity:
        """Fire ``pre_agent_identity_set`` once and take the first valid claim, else the file.

        :param engine: the engine being built, passed to providers as ``engine=``.
        :param system_prompt_path: the fallback file, overriding the configuration and
            ``$KORA_SYSTEM_PROMPT_PATH``.
        :param context: further keywords passed to providers.
        :raises IdentityResolutionError: nothing claimed and the fallback file failed.
        """
        self.load()
        for claim in self._dispatcher.call(IDENTITY_HOOK, {"engine": engine, **context}):
            return ResolvedIdentity(claim.value["identity"], "plugin", plugin=claim.plugin)
        explicit = system_prompt_path or self.config.system_prompt_path
        return read_fallback_identity(explicit, self.config.default_system_prompt_path)


def _enabled_only(shadowed: tuple[Shadowing, ...], enabled: tuple[str, ...]) -> list[Shadowing]:
    keys = frozenset(enabled)  # a set: one root may shadow thousands of enabled plugins
    return [s for s in shadowed if s.key in keys]


def _failure_message(key: str, origin: str, exc: Exception) -> str:
    if isinstance(exc, PluginLoadError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return (
        f"plugin {key!r} ({origin}) failed to load: {type(exc).__name__}: {exc}{where}; "
        "its registrations were rolled back and the other plugins still load"
    )
