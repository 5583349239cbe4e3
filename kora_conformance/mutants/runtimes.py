"""Deliberately broken runtimes: one per runtime check, each proven to be caught by it.

Each factory returns a :class:`~kora_conformance.ReferenceAdapter` over a subclass of the
reference runtime (or, for KC-RT-010, of its engine) that reproduces one bug a fork could ship.
Certify one with::

    pytest --kora-conformance --kora-runtime kora_conformance.mutants.runtimes:NAME

:data:`kora_conformance.mutants._table.RUNTIME_MUTANTS` lists them with the check each one breaks.

The subclasses use the reference runtime's extension seams (``Runtime.context_class``,
``daemon_registry_class``, ``coordinator_class``, ``import_plugin``, the coordinator's phase
hooks ``start_daemon``, ``start_driver``, ``start_drivers``, ``shutdown_order``, ``stop_all``,
``stop_daemons`` and ``cancel_drivers``) and, being part of this project, some of its private
attributes; they are test fixtures, not examples to follow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from kora_conformance.adapter import ReferenceAdapter, RuntimeAdapter
from reference_runtime import (
    BackgroundDaemonEntry,
    BackgroundDaemonRegistry,
    Candidate,
    Coordinator,
    DuplicateDaemonError,
    ListenerRegistry,
    Manifest,
    PluginContext,
    PluginHost,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
    StartedDaemon,
    read_fallback_identity,
)

__all__ = [
    "anonymous_identity",
    "early_drivers",
    "fifo_shutdown",
    "hook_fired_twice",
    "hook_without_engine",
    "ignores_fatal",
    "ignores_prompt_env",
    "late_driver_cancel",
    "module_form_only",
    "naive_providers",
    "no_rollback",
    "persona_not_sent",
    "set_ordering",
    "swallowing_registry",
]


# --- KC-RT-001 ----------------------------------------------------------------------------------


class SetOrderingRuntime(Runtime):
    """The fork's loader: ``plugins.enabled`` becomes a set and plugins load in discovery
    (alphabetical) order, so the first-discovered identity provider wins."""

    def __init__(self, config: RuntimeConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        wanted = set(self.config.enabled)
        order = [key for key in self.discover().candidates if key in wanted]
        order += sorted(wanted.difference(order))  # enabled but not found: reported missing
        self.config = dataclasses.replace(self.config, enabled=tuple(order))


def set_ordering() -> RuntimeAdapter:
    """KC-RT-001: loads in discovery order, not ``plugins.enabled`` order."""
    return ReferenceAdapter(SetOrderingRuntime, name="set_ordering")


# --- KC-RT-002 ----------------------------------------------------------------------------------


class NaiveProvidersRuntime(Runtime):
    """Calls identity providers directly, unwrapped: an exception escapes engine construction and
    a wrong return type is taken for a spec."""

    def claim_identity(self, *, engine: Any = None, **context: Any) -> ResolvedIdentity | None:
        for plugin in self.load().loaded:
            for provider in plugin.identity_providers:
                spec = provider(engine=engine, **context)
                if spec is not None:
                    return ResolvedIdentity(spec, "plugin", plugin=plugin.key)
        return None


def naive_providers() -> RuntimeAdapter:
    """KC-RT-002: providers are not isolated; raising and wrong-type providers break resolution."""
    return ReferenceAdapter(NaiveProvidersRuntime, name="naive_providers")


# --- KC-RT-003 ----------------------------------------------------------------------------------


class IgnoresPromptEnvRuntime(Runtime):
    """Reads the fallback file from the argument or the default path, never from
    ``$KORA_SYSTEM_PROMPT_PATH``."""

    def fallback_identity(self, system_prompt_path: Path | None = None) -> ResolvedIdentity:
        explicit = system_prompt_path or self.config.system_prompt_path
        return read_fallback_identity(explicit, self.config.default_system_prompt_path, {})


def ignores_prompt_env() -> RuntimeAdapter:
    """KC-RT-003: ``KORA_SYSTEM_PROMPT_PATH`` is ignored."""
    return ReferenceAdapter(IgnoresPromptEnvRuntime, name="ignores_prompt_env")


# --- KC-RT-004 ----------------------------------------------------------------------------------


class ModuleFormOnlyRuntime(Runtime):
    """The fork's entry-point loading: ``ep.load().register``, which only works when the entry
    point names a module; ``pkg:register`` fails with an AttributeError."""

    def import_plugin(
        self, candidate: Candidate
    ) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
        if candidate.entry_point is None:
            return super().import_plugin(candidate)
        target = candidate.entry_point.load()
        register: Callable[[Any], Any] = target.register
        return register, target if isinstance(target, types.ModuleType) else None


def module_form_only() -> RuntimeAdapter:
    """KC-RT-004: only the module entry-point form loads."""
    return ReferenceAdapter(ModuleFormOnlyRuntime, name="module_form_only")


# --- KC-RT-005 ----------------------------------------------------------------------------------


class _EagerContext(PluginContext):
    """Applies every registration at once instead of staging it until ``register`` returns, so a
    plugin that fails half-way leaves its hook, provider and daemon behind."""

    def __init__(self, manifest: Manifest, runtime: PluginHost) -> None:
        super().__init__(manifest, runtime)
        self.commit()  # nothing staged yet: every later registration applies at once


class NoRollbackRuntime(Runtime):
    """Records a failing plugin's error but keeps what it registered before failing."""

    context_class = _EagerContext


def no_rollback() -> RuntimeAdapter:
    """KC-RT-005: a plugin that fails half-way through ``register`` is not rolled back."""
    return ReferenceAdapter(NoRollbackRuntime, name="no_rollback")


# --- KC-RT-006 ----------------------------------------------------------------------------------


class SwallowingRegistry(BackgroundDaemonRegistry):
    """The fork's registry: every duplicate-name error is swallowed, real clashes included."""

    def register(self, entry: BackgroundDaemonEntry) -> BackgroundDaemonEntry:
        try:
            return super().register(entry)
        except DuplicateDaemonError:
            return self.by_name(entry.name) or entry


class _SwallowingContext(PluginContext):
    def claim_daemon_name(self, entry: BackgroundDaemonEntry) -> None:
        with contextlib.suppress(DuplicateDaemonError):
            super().claim_daemon_name(entry)


class SwallowingRegistryRuntime(Runtime):
    """A second plugin claiming a taken daemon name loads without error; its daemon never runs."""

    daemon_registry_class = SwallowingRegistry
    context_class = _SwallowingContext


def swallowing_registry() -> RuntimeAdapter:
    """KC-RT-006: the daemon registry swallows every duplicate error."""
    return ReferenceAdapter(SwallowingRegistryRuntime, name="swallowing_registry")


# --- KC-RT-007 ----------------------------------------------------------------------------------


class FifoShutdownCoordinator(Coordinator):
    """Shuts the started daemons down in startup (FIFO) order instead of reverse order."""

    def shutdown_order(self, started: Sequence[StartedDaemon]) -> list[StartedDaemon]:
        return list(started)


class FifoShutdownRuntime(Runtime):
    """Its coordinator shuts down FIFO."""

    coordinator_class = FifoShutdownCoordinator


def fifo_shutdown() -> RuntimeAdapter:
    """KC-RT-007: the coordinator shuts down in FIFO order."""
    return ReferenceAdapter(FifoShutdownRuntime, name="fifo_shutdown")


class IgnoresFatalCoordinator(Coordinator):
    """Treats every startup failure as non-fatal: later daemons still start, exit status 0."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        lenient = [dataclasses.replace(e, fatal_on_startup_failure=False) for e in daemons]
        super().__init__(lenient, listeners, **options)


class IgnoresFatalRuntime(Runtime):
    """Its coordinator ignores ``fatal_on_startup_failure``."""

    coordinator_class = IgnoresFatalCoordinator


def ignores_fatal() -> RuntimeAdapter:
    """KC-RT-007: a fatal startup failure does not stop the run."""
    return ReferenceAdapter(IgnoresFatalRuntime, name="ignores_fatal")


class EarlyDriversCoordinator(Coordinator):
    """Starts each daemon's periodic driver as soon as that daemon has started, before the
    later startups have run."""

    async def start_daemon(self, name: str, entry: BackgroundDaemonEntry | None) -> StartedDaemon:
        started = await super().start_daemon(name, entry)
        if entry is not None and entry.periodic_task is not None:
            self.start_driver(name, entry.periodic_task)
        return started

    def start_drivers(self) -> None:
        return None  # already running


class EarlyDriversRuntime(Runtime):
    """Its coordinator starts periodic drivers during the startups."""

    coordinator_class = EarlyDriversCoordinator


def early_drivers() -> RuntimeAdapter:
    """KC-RT-007: periodic drivers start before all startups have finished."""
    return ReferenceAdapter(EarlyDriversRuntime, name="early_drivers")


class LateDriverCancelCoordinator(Coordinator):
    """Shuts the daemons down first and cancels the periodic drivers only afterwards, so tasks
    keep firing into daemons that are shutting down."""

    async def stop_all(self) -> None:
        await self.stop_daemons()
        await self.cancel_drivers()


class LateDriverCancelRuntime(Runtime):
    """Its coordinator cancels the periodic drivers after the shutdowns."""

    coordinator_class = LateDriverCancelCoordinator


def late_driver_cancel() -> RuntimeAdapter:
    """KC-RT-007: periodic drivers are cancelled after the daemons shut down, not before."""
    return ReferenceAdapter(LateDriverCancelRuntime, name="late_driver_cancel")


# --- KC-RT-008 ----------------------------------------------------------------------------------


class HookFiredTwiceRuntime(Runtime):
    """Resolves the identity twice per engine construction (a "preview" resolution first)."""

    def resolve_identity(
        self, *, engine: Any = None, system_prompt_path: Path | None = None, **context: Any
    ) -> ResolvedIdentity:
        super().resolve_identity(engine=engine, system_prompt_path=system_prompt_path, **context)
        return super().resolve_identity(
            engine=engine, system_prompt_path=system_prompt_path, **context
        )


def hook_fired_twice() -> RuntimeAdapter:
    """KC-RT-008: the identity hook fires twice per engine construction."""
    return ReferenceAdapter(HookFiredTwiceRuntime, name="hook_fired_twice")


class HookWithoutEngineRuntime(Runtime):
    """Fires the identity hook with ``engine=None`` instead of the engine being built."""

    def resolve_identity(
        self, *, engine: Any = None, system_prompt_path: Path | None = None, **context: Any
    ) -> ResolvedIdentity:
        return super().resolve_identity(
            engine=None, system_prompt_path=system_prompt_path, **context
        )


def hook_without_engine() -> RuntimeAdapter:
    """KC-RT-008: the identity hook does not pass the engine."""
    return ReferenceAdapter(HookWithoutEngineRuntime, name="hook_without_engine")


# --- KC-RT-009 ----------------------------------------------------------------------------------


class AnonymousIdentityRuntime(Runtime):
    """Resolves correctly but forgets who supplied the identity (no plugin name, no path)."""

    def resolve_identity(
        self, *, engine: Any = None, system_prompt_path: Path | None = None, **context: Any
    ) -> ResolvedIdentity:
        resolved = super().resolve_identity(
            engine=engine, system_prompt_path=system_prompt_path, **context
        )
        return dataclasses.replace(resolved, plugin=None, path=None)


def anonymous_identity() -> RuntimeAdapter:
    """KC-RT-009 (SHOULD): the resolved identity does not say where it came from."""
    return ReferenceAdapter(AnonymousIdentityRuntime, name="anonymous_identity")


# --- KC-RT-010 ----------------------------------------------------------------------------------


class PersonaNotSentEngine(ReasoningEngine):
    """The fork's engine: carries ``soul_md_content`` but sends only the system prompt."""

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        return [{"type": "text", "text": self.identity.spec.system_prompt_content}]


def persona_not_sent() -> RuntimeAdapter:
    """KC-RT-010 (SHOULD): the persona never reaches the wire."""
    return ReferenceAdapter(name="persona_not_sent", engine_class=PersonaNotSentEngine)
