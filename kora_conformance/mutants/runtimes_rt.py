"""More deliberately broken runtimes: each passed an earlier, narrower version of its check.

Like :mod:`kora_conformance.mutants.runtimes`, each factory returns a
:class:`~kora_conformance.ReferenceAdapter` over a subclass of the reference runtime (or of its
engine, context or coordinator) reproducing one bug a fork could ship; these use only the public
names of :mod:`reference_runtime` (its documented seams: ``context_class``,
``coordinator_class``, ``import_plugin``, ``claim_identity``, ``fallback_identity``, the
context's staging calls). Certify one with::

    pytest --kora-conformance --kora-runtime kora_conformance.mutants.runtimes_rt:NAME

:data:`kora_conformance.mutants._table.RUNTIME_MUTANTS` lists them with the check each one breaks.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
import os
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kora_conformance.adapter import ReferenceAdapter, RuntimeAdapter
from reference_runtime import (
    IDENTITY_HOOK,
    BackgroundDaemonEntry,
    Candidate,
    Coordinator,
    IdentityProvider,
    IdentitySpec,
    ListenerFactory,
    ListenerRegistry,
    Manifest,
    PluginContext,
    PluginHost,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
    describe_callable,
    read_fallback_identity,
)

__all__ = [
    "consults_all",
    "default_path_reported",
    "directories_first",
    "keeps_listeners",
    "missing_env_falls_through",
    "no_shutdown_wait",
    "owner_only_comparison",
    "persona_first_request_only",
    "register_by_name",
    "resolves_per_request",
    "stops_at_raising_shutdown",
    "unattributed_warnings",
    "unawaited_providers",
]

_log = logging.getLogger("reference_runtime")


# --- KC-RT-001 ----------------------------------------------------------------------------------


class DirectoriesFirstRuntime(Runtime):
    """The fork's two-pass loader: directory plugins first, then entry points, each pass in
    ``plugins.enabled`` order, so an enabled entry point loses to any later directory."""

    def __init__(self, config: RuntimeConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        found = self.discover().candidates
        enabled = self.config.enabled

        def route(key: str) -> str:
            candidate = found.get(key)
            return candidate.route if candidate is not None else "directory"

        order = [k for k in enabled if route(k) == "directory"]
        order += [k for k in enabled if route(k) != "directory"]
        self.config = dataclasses.replace(self.config, enabled=tuple(order))


def directories_first() -> RuntimeAdapter:
    """KC-RT-001: entry-point plugins load after every directory plugin."""
    return ReferenceAdapter(DirectoriesFirstRuntime, name="directories_first")


class ConsultsAllRuntime(Runtime):
    """Asks every provider and then picks the first claim in plugin order: the right winner,
    but providers after it are consulted (and may act on a resolution they lost)."""

    def claim_identity(self, *, engine: Any = None, **context: Any) -> ResolvedIdentity | None:
        claims: list[ResolvedIdentity] = []
        for plugin in self.load().loaded:
            for hook, callback in plugin.hooks:
                if hook == IDENTITY_HOOK:
                    result = callback(engine=engine, **context)
                    if isinstance(result, dict) and isinstance(
                        result.get("identity"), IdentitySpec
                    ):
                        claims.append(
                            ResolvedIdentity(result["identity"], "plugin", plugin=plugin.key)
                        )
        return claims[0] if claims else None


def consults_all() -> RuntimeAdapter:
    """KC-RT-001: providers after the first valid claim are still consulted."""
    return ReferenceAdapter(ConsultsAllRuntime, name="consults_all")


# --- KC-RT-002 ----------------------------------------------------------------------------------


def _unattributed(provider: IdentityProvider) -> Callable[..., Any]:
    def pre_agent_identity_set(**kwargs: Any) -> dict[str, IdentitySpec] | None:
        try:
            spec: object = provider(**kwargs)
            if inspect.isawaitable(spec):
                from reference_runtime import resolve_awaitable  # noqa: PLC0415

                spec = resolve_awaitable(spec)
        except Exception as exc:  # noqa: BLE001 - isolated, but not attributed
            _log.warning("identity provider %s failed: %s", describe_callable(provider), exc)
            return None
        if spec is None:
            return None
        if not isinstance(spec, IdentitySpec):
            _log.warning("identity provider %s returned %s", describe_callable(provider), spec)
            return None
        return {"identity": spec}

    return pre_agent_identity_set


class _UnattributedContext(PluginContext):
    """Isolates each provider but logs the callable, never the plugin it belongs to."""

    def register_identity_provider(self, provider: IdentityProvider) -> None:
        self.identity_providers.append(provider)
        self.register_hook(IDENTITY_HOOK, _unattributed(provider))


class UnattributedWarningsRuntime(Runtime):
    """Its providers' failures are logged by function name only."""

    context_class = _UnattributedContext


def unattributed_warnings() -> RuntimeAdapter:
    """KC-RT-002: a skipped provider's WARNING does not name its plugin."""
    return ReferenceAdapter(UnattributedWarningsRuntime, name="unattributed_warnings")


def _unawaited(plugin: str, provider: IdentityProvider) -> Callable[..., Any]:
    def pre_agent_identity_set(**kwargs: Any) -> dict[str, IdentitySpec] | None:
        try:
            spec: object = provider(**kwargs)
        except Exception as exc:  # noqa: BLE001 - isolated
            _log.warning("plugin %r: identity provider raised %s; skipped", plugin, exc)
            return None
        if spec is None:
            return None
        if not isinstance(spec, IdentitySpec):
            if inspect.iscoroutine(spec):
                spec.close()  # the fork never awaited it either
            _log.warning("plugin %r: identity provider returned %s; skipped", plugin, spec)
            return None
        return {"identity": spec}

    return pre_agent_identity_set


class _UnawaitedContext(PluginContext):
    """Isolates each provider synchronously: an async provider's coroutine counts as a wrong
    return type, so a valid async provider is skipped."""

    def register_identity_provider(self, provider: IdentityProvider) -> None:
        self.identity_providers.append(provider)
        self.register_hook(IDENTITY_HOOK, _unawaited(self.name, provider))


class UnawaitedProvidersRuntime(Runtime):
    """Its providers are never awaited."""

    context_class = _UnawaitedContext


def unawaited_providers() -> RuntimeAdapter:
    """KC-RT-002: async providers are skipped as wrong types instead of awaited."""
    return ReferenceAdapter(UnawaitedProvidersRuntime, name="unawaited_providers")


# --- KC-RT-003 ----------------------------------------------------------------------------------


class MissingEnvFallsThroughRuntime(Runtime):
    """A lenient fallback chain: a ``$KORA_SYSTEM_PROMPT_PATH`` naming a missing file is skipped
    and the default read instead of failing closed."""

    def fallback_identity(self, system_prompt_path: Path | None = None) -> ResolvedIdentity:
        explicit = system_prompt_path or self.config.system_prompt_path
        env = os.environ.get("KORA_SYSTEM_PROMPT_PATH", "").strip()
        environ: dict[str, str] | None = None if not env or Path(env).expanduser().exists() else {}
        return read_fallback_identity(explicit, self.config.default_system_prompt_path, environ)


def missing_env_falls_through() -> RuntimeAdapter:
    """KC-RT-003: a missing file named by the variable falls through to the default."""
    return ReferenceAdapter(MissingEnvFallsThroughRuntime, name="missing_env_falls_through")


# --- KC-RT-004 ----------------------------------------------------------------------------------


class RegisterByNameRuntime(Runtime):
    """The fork's entry-point loading: import the entry point's module and call its
    ``register``, whatever attribute the entry point names."""

    def import_plugin(
        self, candidate: Candidate
    ) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
        if candidate.entry_point is None:
            return super().import_plugin(candidate)
        module = importlib.import_module(candidate.entry_point.module)
        register: Callable[[Any], Any] = module.register
        return register, module


def register_by_name() -> RuntimeAdapter:
    """KC-RT-004: ``module:attr`` calls the module's ``register``, not ``attr``."""
    return ReferenceAdapter(RegisterByNameRuntime, name="register_by_name")


# --- KC-RT-005 ----------------------------------------------------------------------------------


class _EagerListenersContext(PluginContext):
    """Stages everything but listener factories, which reach the runtime at once."""

    def __init__(self, manifest: Manifest, runtime: PluginHost) -> None:
        super().__init__(manifest, runtime)
        self.host = runtime

    def register_listener(self, name: str, factory: ListenerFactory) -> None:
        super().register_listener(name, factory)
        if not self.committed:
            self.host.listeners.register(name, factory)


class KeepsListenersRuntime(Runtime):
    """A plugin failing half-way keeps its listener-side registrations."""

    context_class = _EagerListenersContext


def keeps_listeners() -> RuntimeAdapter:
    """KC-RT-005: listener registrations of a failed plugin are not rolled back."""
    return ReferenceAdapter(KeepsListenersRuntime, name="keeps_listeners")


# --- KC-RT-006 ----------------------------------------------------------------------------------


class _OwnerOnlyContext(PluginContext):
    """Takes any repeat of a name by the same plugin for an identical repeat (compares the
    owner, not the entry), so the plugin's second, different daemon is silently dropped."""

    def claim_daemon_name(self, entry: BackgroundDaemonEntry) -> None:
        if any(e.name == entry.name for e in self.daemon_entries):
            return
        super().claim_daemon_name(entry)


class OwnerOnlyComparisonRuntime(Runtime):
    """Its context compares daemon owners only."""

    context_class = _OwnerOnlyContext


def owner_only_comparison() -> RuntimeAdapter:
    """KC-RT-006: a plugin's second, different daemon under its own name is not an error."""
    return ReferenceAdapter(OwnerOnlyComparisonRuntime, name="owner_only_comparison")


# --- KC-RT-007 ----------------------------------------------------------------------------------

#: The timeout the fork's coordinator gives every shutdown, whatever the daemon asked for.
_IMPATIENT: float = 0.5


class NoShutdownWaitCoordinator(Coordinator):
    """Gives every shutdown a token timeout instead of its own ``shutdown_timeout``."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        hasty = [
            dataclasses.replace(e, shutdown_timeout=min(e.shutdown_timeout, _IMPATIENT))
            for e in daemons
        ]
        super().__init__(hasty, listeners, **options)


class NoShutdownWaitRuntime(Runtime):
    """Its coordinator moves on from a slow shutdown at once."""

    coordinator_class = NoShutdownWaitCoordinator


def no_shutdown_wait() -> RuntimeAdapter:
    """KC-RT-007: a shutdown is abandoned long before its timeout."""
    return ReferenceAdapter(NoShutdownWaitRuntime, name="no_shutdown_wait")


def _gives_up_after_failure(shutdown: Callable[[], Any], failed: list[bool]) -> Callable[[], Any]:
    if inspect.iscoroutinefunction(shutdown):

        async def later() -> None:
            if failed:
                return
            try:
                await shutdown()
            except Exception:
                failed.append(True)
                raise

        return later

    def now() -> Any:
        if failed:
            return None
        try:
            return shutdown()
        except Exception:
            failed.append(True)
            raise

    return now


class StopsAtRaisingShutdownCoordinator(Coordinator):
    """Once a shutdown raises, the remaining daemons are not shut down ("something is wrong,
    get out")."""

    def __init__(
        self,
        daemons: Iterable[BackgroundDaemonEntry] = (),
        listeners: ListenerRegistry | None = None,
        **options: Any,
    ) -> None:
        failed: list[bool] = []
        wrapped = [
            dataclasses.replace(e, shutdown=_gives_up_after_failure(e.shutdown, failed))
            for e in daemons
        ]
        super().__init__(wrapped, listeners, **options)


class StopsAtRaisingShutdownRuntime(Runtime):
    """Its coordinator abandons the shutdown sequence at the first raising shutdown."""

    coordinator_class = StopsAtRaisingShutdownCoordinator


def stops_at_raising_shutdown() -> RuntimeAdapter:
    """KC-RT-007: after one shutdown raises, the remaining daemons are never shut down."""
    return ReferenceAdapter(StopsAtRaisingShutdownRuntime, name="stops_at_raising_shutdown")


# --- KC-RT-008 ----------------------------------------------------------------------------------


class ResolvesPerRequestEngine(ReasoningEngine):
    """Re-resolves the identity for every request ("so a changed plugin takes effect"), firing
    the identity hook again each time."""

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        self.identity = self.runtime.resolve_identity(engine=self)
        return super().system_blocks


def resolves_per_request() -> RuntimeAdapter:
    """KC-RT-008: the identity hook fires on every request, not once per construction."""
    return ReferenceAdapter(name="resolves_per_request", engine_class=ResolvesPerRequestEngine)


# --- KC-RT-009 ----------------------------------------------------------------------------------


class DefaultPathReportedRuntime(Runtime):
    """Reads the right fallback file but reports the configured default path as its source."""

    def fallback_identity(self, system_prompt_path: Path | None = None) -> ResolvedIdentity:
        resolved = super().fallback_identity(system_prompt_path)
        return dataclasses.replace(resolved, path=self.config.default_system_prompt_path)


def default_path_reported() -> RuntimeAdapter:
    """KC-RT-009 (SHOULD): the fallback identity names the default path, not the file read."""
    return ReferenceAdapter(DefaultPathReportedRuntime, name="default_path_reported")


# --- KC-RT-010 ----------------------------------------------------------------------------------


class PersonaFirstRequestOnlyEngine(ReasoningEngine):
    """Sends the persona on its first request only (the fork's "the model has it now")."""

    sent_persona = False

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        if self.sent_persona:
            return [{"type": "text", "text": self.identity.spec.system_prompt_content}]
        self.sent_persona = True
        return super().system_blocks


def persona_first_request_only() -> RuntimeAdapter:
    """KC-RT-010 (SHOULD): only an engine's first request carries the persona."""
    return ReferenceAdapter(
        name="persona_first_request_only", engine_class=PersonaFirstRequestOnlyEngine
    )
