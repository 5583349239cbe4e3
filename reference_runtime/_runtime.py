"""The runtime: loads plugins in ``plugins.enabled`` order and dispatches their hooks."""

from __future__ import annotations

import logging
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from . import compat
from ._clock import Clock
from ._config import RuntimeConfig
from ._context import PluginContext
from ._coordinator import Coordinator
from ._daemons import BackgroundDaemonRegistry
from ._discovery import Candidate, Discovery, Shadowing, discover
from ._dispatch import Dispatcher
from ._errors import PluginLoadError, quote
from ._hookspecs import IDENTITY_HOOK
from ._host_providers import HostModelProviders
from ._identity import ResolvedIdentity, read_fallback_identity
from ._listeners import ListenerRegistry
from ._llm import LLMBackend
from ._load_report import LoadedPlugin, LoadReport, failure_message
from ._loading import DefaultsSnapshot, call_register, drop_modules, load_register, package_of
from ._manifest import Manifest
from ._queries import RegistrationQueries
from ._registrations import RegistrationStore

__all__ = ["Runtime"]

_log = logging.getLogger("reference_runtime")

_R = TypeVar("_R", bound="Runtime")


class Runtime(RegistrationQueries):
    """A plugin host: discovery, loading, hooks and identity resolution.

    :param config: what to load; an empty configuration loads nothing.
    :param install_compat: make the fork's ``agent.*`` import paths available before loading
        (see :mod:`reference_runtime.compat`), for plugins written against the fork, until
        :meth:`close` (``with Runtime(...) as runtime:`` closes it at the end of the block).

    Extension seams: the classes below and :meth:`import_plugin` are what a subclass replaces to
    build a variant runtime (test suites' deliberately broken runtimes, say). They are
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
        # The Hermes surface: committed registrations, and each plugin's settings.
        self._registrations = RegistrationStore()
        self._settings: dict[str, dict[str, Any]] = {}
        #: What ``ctx.llm.complete`` calls, as ``backend(plugin, messages, **options)``;
        #: ``None`` (the default) means no model, and ``ctx.llm`` says so.
        self.llm_backend: LLMBackend | None = None

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
    def dispatcher(self) -> Dispatcher:
        """The hook dispatcher: committed hook callbacks, called in plugin order, each one's
        failure isolated (what :meth:`invoke_hook` and :meth:`claim_identity` call)."""
        return self._dispatcher

    # --- what a plugin's context reaches (the PluginHost protocol) ------------------------------

    @property
    def registration_store(self) -> RegistrationStore:
        """Committed Hermes-surface registrations, in commit order (see :meth:`registrations`)."""
        return self._registrations

    @property
    def settings_by_plugin(self) -> dict[str, dict[str, Any]]:
        """Each plugin's settings, mutable: :meth:`configure_plugin` and committed
        ``set_config`` writes land here (:meth:`plugin_settings` is the read-only view)."""
        return self._settings

    def listener_holders(self, name: str) -> tuple[str, ...]:
        """The loaded plugins whose committed registrations hold the listener-side ``name``."""
        return tuple(
            key for key, context in self._contexts.items() if name in context.applied_listener_names
        )

    def is_loaded(self, key: str) -> bool:
        """Whether the plugin ``key`` loaded into this runtime (without loading first)."""
        return key in self._contexts

    @property
    def report(self) -> LoadReport:
        """The load report; loads first if :meth:`load` has not run."""
        return self.load()

    def discover(self) -> Discovery:
        """Find candidate plugins without importing anything."""
        return discover(self.config.plugin_dirs, self.config.entry_point_groups)

    def load(self) -> LoadReport:
        """Discover and load the enabled plugins, once; later calls return the same report.

        Plugins load in ``plugins.enabled`` order. Whatever goes wrong with one plugin is that
        plugin's entry in :attr:`LoadReport.errors` (or :attr:`LoadReport.missing`, with the
        reason a same-named candidate was passed over) and the others still load: a manifest
        that cannot be read or parsed, an import or ``register`` that raises *anything*, a
        ``BaseException`` included (``SystemExit``, ``GeneratorExit``, a custom one), an
        exception whose ``__str__`` raises, a ``register`` that outlives
        :attr:`RuntimeConfig.register_timeout`. The failed plugin's registrations are rolled
        back, including what its import registered into the process-default registries.

        ``KeyboardInterrupt`` is the one exception re-raised: it is the operator's Ctrl-C, and
        it should stop the process. It is re-raised only after the runtime is consistent: the
        interrupted plugin is rolled back and recorded as failed, the plugins after it are
        named in a warning as not loaded, and the report is stored, so a later :meth:`load`
        returns it.

        Failure messages name the plugin, where it came from, and the rule or exception.
        """
        if self._report is not None:
            return self._report
        if self._install_compat:
            compat.hold(self)
        report = LoadReport()
        found = self.discover()
        report.shadowed.extend(_enabled_only(found.shadowed, self.config.enabled))
        report.warnings.extend(found.warnings)
        disabled = self.config.disabled
        for index, key in enumerate(self.config.enabled):
            if key in disabled:
                report.disabled.append(key)
                continue
            candidate = found.candidates.get(key)
            if candidate is None:
                where = ", ".join(str(d) for d in self.config.plugin_dirs) or "no plugin dirs"
                groups = ", ".join(self.config.entry_point_groups) or "none"
                passed_over = "".join(
                    f"; passed over {skipped.describe()}" for skipped in found.skipped.get(key, ())
                )
                warning = (
                    f"plugin {key!r} is enabled but was not found (searched {where}; "
                    f"entry-point groups: {groups}){passed_over}; install it or add its directory"
                )
                _log.warning("%s", warning)
                report.missing.append(key)
                report.warnings.append(warning)
                continue
            report.warnings.extend(candidate.warnings)
            if candidate.error is not None:
                _log.warning("%s", candidate.error)
                report.errors[key] = candidate.error
                continue
            assert candidate.manifest is not None
            if candidate.manifest.unknown_keys:
                keys = ", ".join(quote(k) for k in candidate.manifest.unknown_keys[:20])
                more = len(candidate.manifest.unknown_keys) - 20
                report.warnings.append(
                    f"plugin {key!r}: manifest has unknown keys {keys}"
                    f"{f' and {more} more' if more > 0 else ''} (kept, not interpreted)"
                )
            try:
                self._load_one(key, candidate, report)
            except KeyboardInterrupt:
                rest = [k for k in self.config.enabled[index + 1 :] if k not in disabled]
                warning = (
                    f"loading was interrupted (KeyboardInterrupt) in plugin {key!r}; it was "
                    f"rolled back; not loaded: {', '.join(rest) or 'none'}"
                )
                _log.warning("%s", warning)
                report.warnings.append(warning)
                self._report = report
                raise
        self._report = report
        return report

    def _load_one(self, key: str, candidate: Candidate, report: LoadReport) -> None:
        """Import and register one candidate into this runtime and ``report``.

        :raises KeyboardInterrupt: after recording the plugin as failed and rolling it back.
        """
        assert candidate.manifest is not None
        package = package_of(candidate)
        fresh = package is not None and package not in sys.modules
        defaults, models = DefaultsSnapshot(), HostModelProviders(package)
        try:
            register, module = self.import_plugin(candidate)
            context = self.register_plugin(candidate.manifest, register, module)
        except BaseException as exc:  # one bad plugin must not stop the others
            models.added(key)  # the host's function back in place; a failed load keeps nothing
            message = failure_message(key, candidate.origin, exc)
            _log.warning("%s", message)
            report.errors[key] = message
            if package is not None:
                # Nothing of a failed import lingers: not its defaults, not a half-made module.
                defaults.discard_added_by(package)
                if fresh:
                    drop_modules(package)
            if isinstance(exc, KeyboardInterrupt):
                raise
            return
        self._contexts[key], model_providers = context, models.added(key)
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
                registrations=(*context.registrations, *model_providers),
            )
        )

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

        With :attr:`RuntimeConfig.register_timeout` set, ``register`` runs in a worker thread
        and a call that has not returned in time is abandoned: a thread cannot be killed, so it
        keeps running (a daemon thread, so it does not keep the process alive), but its context
        is never committed, so nothing it registers through ``ctx``, then or later, takes
        effect. What it registers directly into the process-default registries after the
        deadline is beyond the runtime's reach. Without the timeout (the default), ``register``
        runs in the calling thread, as the fork's loader ran it.

        :returns: the committed context.
        :raises PluginLoadError: ``register`` did not return within ``register_timeout``.
        :raises BaseException: whatever ``register`` raises (nothing was applied), or the
            commit's error (such as :class:`DuplicateDaemonError`), after rolling the commit
            back.
        """
        context = self.context_class(manifest, self)
        self._run_register(context, register)
        prefixes = {register.__module__, getattr(module, "__name__", None)}
        context.adopt_process_defaults({p for p in prefixes if p})
        context.commit()
        return context

    def _run_register(self, context: PluginContext, register: Callable[[Any], Any]) -> None:
        timeout = self.config.register_timeout
        if timeout is None:
            call_register(register, context)
            return
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                call_register(register, context)
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
                outcome.append(exc)
            else:
                outcome.append(None)

        worker = threading.Thread(target=run, name=f"register[{context.name}]", daemon=True)
        worker.start()
        worker.join(timeout)
        if not outcome:
            msg = (
                f"plugin {context.name!r}: register(ctx) did not return within {timeout:g} s "
                "(register_timeout); it was abandoned and nothing it registers takes effect "
                "(its thread keeps running: a thread cannot be killed). Do not block in "
                "register: start long work from a daemon's startup instead"
            )
            raise PluginLoadError(msg, plugin=context.name)
        failure = outcome[0]
        if failure is not None:
            raise failure

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
        """Fire ``pre_agent_identity_set`` once and take the first valid claim, else the file:
        :meth:`claim_identity`, then :meth:`fallback_identity`.

        :param engine: the engine being built, passed to providers as ``engine=``.
        :param system_prompt_path: the fallback file, overriding the configuration and
            ``$KORA_SYSTEM_PROMPT_PATH``.
        :param context: further keywords passed to providers.
        :raises IdentityResolutionError: nothing claimed and the fallback file failed.
        """
        claimed = self.claim_identity(engine=engine, **context)
        if claimed is not None:
            return claimed
        return self.fallback_identity(system_prompt_path)

    def claim_identity(self, *, engine: Any = None, **context: Any) -> ResolvedIdentity | None:
        """Fire ``pre_agent_identity_set`` once (loading first), in plugin order, and return the
        first valid claim, attributed to its plugin; ``None`` when no provider claims.

        Each provider is isolated: one that raises or returns something other than an
        ``IdentitySpec`` or ``None`` is skipped with a WARNING naming its plugin.
        """
        self.load()
        for claim in self._dispatcher.call(IDENTITY_HOOK, {"engine": engine, **context}):
            return ResolvedIdentity(claim.value["identity"], "plugin", plugin=claim.plugin)
        return None

    def fallback_identity(self, system_prompt_path: Path | None = None) -> ResolvedIdentity:
        """The identity from the fallback file: ``system_prompt_path``, else the configured
        path, else ``$KORA_SYSTEM_PROMPT_PATH``, else the default path (see
        :func:`read_fallback_identity`).

        :raises IdentityResolutionError: the file is missing, unreadable or blank.
        """
        explicit = system_prompt_path or self.config.system_prompt_path
        return read_fallback_identity(explicit, self.config.default_system_prompt_path)


def _enabled_only(shadowed: tuple[Shadowing, ...], enabled: tuple[str, ...]) -> list[Shadowing]:
    keys = frozenset(enabled)  # a set: one root may shadow thousands of enabled plugins
    return [s for s in shadowed if s.key in keys]
