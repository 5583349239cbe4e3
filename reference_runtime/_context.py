"""The object a plugin's ``register(ctx)`` receives.

A context is a registration-staging transaction: it stages what its plugin registers and
applies it to the runtime only at :meth:`PluginContext.commit`, which the runtime calls when
``register`` returns normally, so a plugin that fails half-way leaves nothing behind;
:meth:`PluginContext.rollback` takes a commit back. Registrations made after the commit (a plugin
that keeps its context) take effect at once. The context reaches its runtime only through
:class:`~reference_runtime.PluginHost`.

Besides the identity, daemon and listener registrations defined here, the context offers the
upstream Hermes surface (``register_tool``, ``register_command``, ...), generated from the table
in :mod:`reference_runtime._surface` by :mod:`reference_runtime._context_surface`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ._context_surface import HermesSurface, install_surface
from ._daemons import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    BackgroundDaemonEntry,
    PeriodicTaskSpec,
    ShutdownCallable,
    StartupCallable,
    background_daemon_registry,
)
from ._daemons import _differences as daemon_differences
from ._daemons import _duplicate as duplicate_error
from ._dispatch import wrap_identity_provider
from ._dual import DualRegistration
from ._errors import DuplicateDaemonError, RegistrationError
from ._hookspecs import IDENTITY_HOOK, KNOWN_HOOKS
from ._identity import IdentityProvider
from ._listeners import (
    DaemonListener,
    ListenerFactory,
    ListenerTask,
    listener_registry,
)
from ._listeners import _listener_name as check_listener_name
from ._manifest import Manifest
from ._manifest_view import ManifestView
from ._plugin_host import PluginHost
from ._registrations import Registration

__all__ = ["PluginContext"]

_log = logging.getLogger("reference_runtime")


class PluginContext(HermesSurface):
    """Registration surface for one plugin.

    :param manifest: the plugin's manifest; ``manifest.name`` is the plugin's name.
    :param runtime: the runtime the plugin loads into.

    The staging transaction is public, for hosts and variant runtimes: :attr:`committed`,
    :meth:`commit`, :meth:`rollback`, :meth:`adopt_process_defaults`, and
    :meth:`claim_daemon_name`, the check every staged daemon passes.
    """

    def __init__(self, manifest: Manifest, runtime: PluginHost) -> None:
        self.manifest = manifest
        self._runtime = runtime
        self._init_surface()
        self._committed = False
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._handles: list[object] = []
        self.identity_providers: list[IdentityProvider] = []
        self.warnings: list[str] = []
        #: Daemon entries, dual registrations and listener factories, in registration order.
        self._daemons: list[BackgroundDaemonEntry | DualRegistration] = []
        self._listeners: list[tuple[str, ListenerFactory]] = []
        #: What the commit applied, for a rollback: daemon names it added, and listener-side
        #: names with what each replaced (``None``: nothing), so a rollback puts that back.
        self._applied_daemons: list[str] = []
        self._applied_listeners: list[tuple[str, ListenerFactory | None]] = []
        self._applied_tasks: list[tuple[str, ListenerTask | None]] = []

    @property
    def manifest(self) -> ManifestView:
        """The plugin's manifest, as upstream plugins see it: every upstream field readable,
        and writable (writes stay in this view; :attr:`name` keeps the loaded manifest's)."""
        return self._manifest_view

    @manifest.setter
    def manifest(self, value: Manifest | ManifestView) -> None:
        source = value.source if isinstance(value, ManifestView) else value
        self._manifest: Manifest = source
        self._manifest_view = value if isinstance(value, ManifestView) else ManifestView(value)

    @property
    def name(self) -> str:
        """The plugin's name."""
        return self._manifest.name

    @property
    def hooks(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        """Every ``(hook name, callback)`` registered, in order."""
        return tuple(self._hooks)

    def _require_callable(self, value: object, call: str) -> None:
        if not callable(value):
            msg = (
                f"plugin {self.name!r}: {call} needs a callable, got {type(value).__name__}; "
                "pass the function itself, not its result"
            )
            raise RegistrationError(msg, plugin=self.name)

    def register_hook(self, hook_name: str, callback: Callable[..., Any]) -> None:
        """Register ``callback`` for the hook ``hook_name``.

        The callback is called with keyword arguments only; sync and async callbacks both work.
        An unknown hook name is accepted for forward compatibility and logged at WARNING.

        :raises RegistrationError: ``hook_name`` is not a string or ``callback`` is not callable.
        """
        name = hook_name
        if not isinstance(name, str) or not name:  # type: ignore[redundant-expr,unused-ignore]
            msg = f"plugin {self.name!r}: register_hook needs a hook name string, got {name!r}"
            raise RegistrationError(msg, plugin=self.name)
        self._require_callable(callback, f"register_hook({name!r}, ...)")
        if name not in KNOWN_HOOKS:
            warning = (
                f"plugin {self.name!r} registered unknown hook {name!r}; it is kept for forward "
                "compatibility, but no host fires it (check the spelling)"
            )
            _log.warning("%s", warning)
            self.warnings.append(warning)
        self._hooks.append((name, callback))
        if self._committed:
            self._handles.append(self._runtime.dispatcher.add(self.name, name, callback))
        arguments = {"hook_name": name, "callback": callback}
        self._stage_record(
            Registration(self.name, "register_hook", "hook", name, arguments), displace=False
        )

    def register_identity_provider(self, provider: IdentityProvider) -> None:
        """Register a provider that returns an :class:`IdentitySpec` or ``None``.

        It is wrapped for the ``pre_agent_identity_set`` hook: see :func:`wrap_identity_provider`.

        :raises RegistrationError: ``provider`` is not callable.
        """
        self._require_callable(provider, "register_identity_provider")
        self.identity_providers.append(provider)
        self.register_hook(IDENTITY_HOOK, wrap_identity_provider(self.name, provider))

    @property
    def daemon_entries(self) -> tuple[BackgroundDaemonEntry, ...]:
        """Every daemon entry registered (dual listeners' entries included), in order."""
        return tuple(d.entry if isinstance(d, DualRegistration) else d for d in self._daemons)

    @property
    def listener_names(self) -> tuple[str, ...]:
        """Names registered on the listener side (dual listeners included), in order."""
        dual = [d.name for d in self._daemons if isinstance(d, DualRegistration)]
        return tuple(dict.fromkeys([*dual, *(name for name, _ in self._listeners)]))

    def claim_daemon_name(self, entry: BackgroundDaemonEntry) -> None:
        """Check that ``entry`` may take its name: every daemon registration (and adoption)
        passes here before it is staged.

        A clash surfaces inside ``register(ctx)``, so the plugin fails to load as a whole.

        :raises DuplicateDaemonError: a different daemon, staged by this plugin or committed in
            the runtime, holds ``entry.name``. The same daemon again passes.
        """
        held = [e for e in self.daemon_entries if e.name == entry.name]
        existing = self._runtime.daemons.by_name(entry.name)
        if existing is not None:
            held.append(existing)
        for other in held:
            differences = daemon_differences(other, entry)
            if differences:
                raise duplicate_error(other, entry, differences)

    def _listener_owner(self, name: str) -> str | None:
        """The other plugin of this runtime that holds the listener-side name ``name``, if any."""
        if name not in self._runtime.listeners:
            return None
        return next((p for p in self._runtime.listener_holders(name) if p != self.name), None)

    @property
    def applied_listener_names(self) -> tuple[str, ...]:
        """The listener-side names this context's commit applied (and still holds)."""
        return tuple(dict.fromkeys(name for name, _ in self._applied_listeners))

    def _claim_listener(self, name: str) -> None:
        # Like _claim: another plugin's listener name is refused inside register(ctx). The same
        # plugin registering its own name again replaces it (the fork's semantics).
        owner = self._listener_owner(name)
        if owner is not None:
            msg = (
                f"listener name {name!r} is already registered by plugin {owner!r}; plugin "
                f"{self.name!r} tried to register a listener under it. Listener names must be "
                f"unique in a runtime: rename one, e.g. {f'{self.name}_{name}'!r}."
            )
            raise DuplicateDaemonError(msg, name=name, existing_owner=owner, new_owner=self.name)

    def _claim_tasks(self, listener: str, tasks: Iterable[PeriodicTaskSpec]) -> None:
        # Listener-side tasks (and the coordinator's fire counts) are keyed by task name: a name
        # held by a different listener, of any plugin, would silently never run.
        holders = [(t.spec.name, t.listener) for t in self._runtime.listeners.tasks()]
        holders += [
            (task.name, daemon.name)
            for daemon in self._daemons
            if isinstance(daemon, DualRegistration)
            for task in daemon._listener_tasks()
        ]
        for task in tasks:
            for name, holder in holders:
                if name != task.name or holder == listener:
                    continue
                owner = self._listener_owner(holder)
                if owner is None:
                    owner = self.name if holder in self.listener_names else "<unknown>"
                msg = (
                    f"listener-side periodic task {task.name!r} is already registered for "
                    f"listener {holder!r} of plugin {owner!r}; plugin {self.name!r} tried to "
                    f"register it for listener {listener!r}. Task names key the listener-side "
                    "scheduler and the coordinator's fire counts, so one would never run: "
                    "give it a unique name, e.g. PeriodicTaskSpec(interval, callback, "
                    f"{f'{listener}.{task.name}'!r})."
                )
                raise DuplicateDaemonError(
                    msg, name=task.name, existing_owner=owner, new_owner=self.name
                )

    def register_background_daemon(
        self,
        name: str,
        startup: StartupCallable,
        shutdown: ShutdownCallable,
        *,
        periodic_task: PeriodicTaskSpec | None = None,
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        fatal_on_startup_failure: bool = False,
    ) -> BackgroundDaemonEntry:
        """Register a background daemon, owned by this plugin.

        :raises DaemonSpecError: a field broke its rule.
        :raises DuplicateDaemonError: a different daemon already holds ``name``. The same
            daemon again (a reloaded module registering twice) is a no-op.
        """
        entry = BackgroundDaemonEntry(
            name,
            startup,
            shutdown,
            periodic_task=periodic_task,
            shutdown_timeout=shutdown_timeout,
            plugin_name=self.name,
            fatal_on_startup_failure=fatal_on_startup_failure,
        )
        self._stage(entry)
        return entry

    def register_dual_listener(
        self,
        name: str,
        listener: DaemonListener,
        *,
        periodic_task: PeriodicTaskSpec | None = None,
        listener_side_tasks: Iterable[PeriodicTaskSpec] = (),
        shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
        fatal_on_startup_failure: bool = False,
    ) -> DualRegistration:
        """Register ``listener`` (``SomeListener.instance()``) on both sides.

        Its bound ``startup``/``shutdown`` go to the daemon entry and to the listener factory,
        the primary ``periodic_task`` to both sides, ``listener_side_tasks`` to the listener
        side only. See :class:`~reference_runtime.DualRegistration`.

        :raises DaemonSpecError: a field broke its rule.
        :raises DuplicateDaemonError: a different daemon already holds ``name``.
        """
        registration = DualRegistration(
            name,
            listener,
            periodic_task=periodic_task,
            listener_side_tasks=tuple(listener_side_tasks),
            shutdown_timeout=shutdown_timeout,
            fatal_on_startup_failure=fatal_on_startup_failure,
            plugin_name=self.name,
        )
        self._stage(registration)
        return registration

    def register_listener(self, name: str, factory: ListenerFactory) -> None:
        """Register a listener-side factory (the fork's ``LISTENER_REGISTRY``); a name again
        replaces it. A listener with no daemon entry is fatal when its startup fails.

        :raises DaemonSpecError: ``name`` is not a Python identifier.
        :raises DuplicateDaemonError: another plugin of this runtime holds ``name``.
        """
        self._require_callable(factory, f"register_listener({name!r}, ...)")
        check_listener_name(name)
        self._claim_listener(name)
        self._listeners = [(n, f) for n, f in self._listeners if n != name]
        self._listeners.append((name, factory))
        if self._committed:
            self._apply_listener(name, factory)

    def adopt_process_defaults(self, modules: set[str]) -> None:
        """Take in what the plugin's modules registered into the process-default registries.

        Fork-style code registers at import, into ``background_daemon_registry()`` and the
        listener registry, with no context at hand. Entries whose callbacks are defined in the
        plugin's own modules (``modules`` and their submodules) are staged here like any other
        registration, so such plugins run unmodified in this runtime.
        """

        def own(fn: object) -> bool:
            module = str(getattr(fn, "__module__", "") or "")
            return any(module == m or module.startswith(f"{m}.") for m in modules)

        staged = {e.name for e in self.daemon_entries}
        for entry in background_daemon_registry().list_entries():
            # A daemon the plugin also registered through its context is kept as that
            # registration (stamped with the plugin's name).
            if own(entry.startup) and entry.name not in staged:
                self._stage(entry)
        listeners = listener_registry()
        for name in listeners.names():
            factory = listeners.factory(name)
            if factory is not None and own(factory) and name not in self.listener_names:
                self.register_listener(name, factory)

    def _stage(self, daemon: BackgroundDaemonEntry | DualRegistration) -> None:
        """Keep ``daemon`` for the commit (applying it at once after one); a repeat is a no-op."""
        entry = daemon.entry if isinstance(daemon, DualRegistration) else daemon
        self.claim_daemon_name(entry)
        if isinstance(daemon, DualRegistration):
            self._claim_listener(daemon.name)
            self._claim_tasks(daemon.name, daemon._listener_tasks())
        if not any(e.name == entry.name for e in self.daemon_entries):
            self._daemons.append(daemon)
            if self._committed:
                self._apply_daemon(daemon)

    def _apply_daemon(self, daemon: BackgroundDaemonEntry | DualRegistration) -> None:
        runtime = self._runtime
        added = daemon.name not in runtime.daemons  # the same daemon again is a no-op
        if isinstance(daemon, DualRegistration):
            _, replaced, tasks = daemon._apply(runtime.daemons, runtime.listeners)
            self._applied_listeners.append((daemon.name, replaced))
            self._applied_tasks.extend(tasks)
        else:
            runtime.daemons.register(daemon)
        if added:
            self._applied_daemons.append(daemon.name)

    def _apply_listener(self, name: str, factory: ListenerFactory) -> None:
        replaced = self._runtime.listeners.register(name, factory)
        self._applied_listeners.append((name, replaced))

    @property
    def committed(self) -> bool:
        """Whether :meth:`commit` applied the staged registrations (and no rollback since)."""
        return self._committed

    def commit(self) -> None:
        """Apply everything staged to the runtime; from then on registrations apply at once.

        Committing again is a no-op. A commit that fails half-way (a daemon name taken in the
        meantime, say) is rolled back before its error propagates, so the runtime holds all of
        the plugin's registrations or none.
        """
        if self._committed:
            return
        try:
            for hook, callback in self._hooks:
                self._handles.append(self._runtime.dispatcher.add(self.name, hook, callback))
            for daemon in self._daemons:
                self._apply_daemon(daemon)
            for name, factory in self._listeners:
                self._apply_listener(name, factory)
            self._commit_surface()
        except BaseException:
            self.rollback()
            raise
        self._committed = True

    def rollback(self) -> None:
        """Take back what the commit applied (putting back what each registration replaced);
        the registrations stay staged, so a later :meth:`commit` applies them again."""
        self._rollback_surface()
        for handle in self._handles:
            self._runtime.dispatcher.remove(handle)
        for name in self._applied_daemons:
            self._runtime.daemons.unregister(name)
        # Newest first, putting back what each registration replaced (it then comes last).
        listeners = self._runtime.listeners
        for name, factory in reversed(self._applied_listeners):
            listeners.unregister(name)
            if factory is not None:
                listeners.register(name, factory)
        for task_name, task in reversed(self._applied_tasks):
            listeners.unregister_task(task_name)
            if task is not None:
                listeners.register_task(task.spec, listener=task.listener)
        self._handles.clear()
        self._applied_daemons.clear()
        self._applied_listeners.clear()
        self._applied_tasks.clear()
        self._committed = False


install_surface(PluginContext)
