"""Broken runtimes for the gaps generated mutants found: each passed the check before it was
sharpened.

Like :mod:`kora_conformance.mutants.runtimes_rt`, each factory returns a
:class:`~kora_conformance.ReferenceAdapter` over a subclass of the reference runtime (or of its
engine or coordinator) that reproduces one bug a fork could ship, using only the public names of
:mod:`reference_runtime`. Certify one with::

    pytest --kora-conformance --kora-runtime kora_conformance.mutants.runtimes_mut:NAME

:data:`kora_conformance.mutants._table.RUNTIME_MUTANTS` lists them with the check each one breaks.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any

from kora_conformance.adapter import ReferenceAdapter, RuntimeAdapter
from reference_runtime import (
    IDENTITY_HOOK,
    Discovery,
    IdentityProvider,
    IdentitySpec,
    PluginContext,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
    background_daemon_registry,
)

__all__ = [
    "adopts_every_default",
    "blank_persona_block",
    "entry_points_all_or_nothing",
    "exiting_provider_escapes",
    "first_root_wins",
    "hooks_never_awaited",
    "identity_first_request_only",
    "ignores_import_registrations",
    "ignores_late_registrations",
    "mapping_envelopes_claim",
    "mutable_spec_metadata",
    "unexplained_missing",
]


# --- KC-RT-001 ----------------------------------------------------------------------------------


class FirstRootWinsRuntime(Runtime):
    """Keeps the first copy of a key it meets, so the first search root wins a shared key
    instead of the last (searching the roots in reverse is the same bug)."""

    def __init__(self, config: RuntimeConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        roots = tuple(reversed(self.config.plugin_dirs))
        self.config = dataclasses.replace(self.config, plugin_dirs=roots)


def first_root_wins() -> RuntimeAdapter:
    """KC-RT-001: of two search roots holding the same key, the earlier one's copy loads."""
    return ReferenceAdapter(FirstRootWinsRuntime, name="first_root_wins")


def _never_awaited(callback: Callable[..., Any]) -> Callable[..., Any]:
    def call(**kwargs: Any) -> Any:
        result = callback(**kwargs)
        if inspect.iscoroutine(result):
            result.close()  # what a dispatcher that never awaits returns is not the value
            return f"<coroutine {getattr(callback, '__qualname__', 'callback')}>"
        return result

    return call


class _UnawaitedHooksContext(PluginContext):
    """Calls hook callbacks and keeps what they return, awaitables unawaited."""

    def register_hook(self, hook_name: str, callback: Callable[..., Any]) -> None:
        super().register_hook(hook_name, _never_awaited(callback))


class HooksNeverAwaitedRuntime(Runtime):
    """``invoke_hook`` returns an async callback's coroutine instead of its result."""

    context_class = _UnawaitedHooksContext


def hooks_never_awaited() -> RuntimeAdapter:
    """KC-RT-001: an async hook callback's result is never awaited (its value never seen)."""
    return ReferenceAdapter(HooksNeverAwaitedRuntime, name="hooks_never_awaited")


# --- KC-RT-002 ----------------------------------------------------------------------------------

#: The SystemExit a provider raised during the current resolution, to re-raise after it.
_ESCAPED: list[SystemExit] = []


def _exits_escape(provider: IdentityProvider) -> Callable[..., Any]:
    def provide(**kwargs: Any) -> Any:
        try:
            return provider(**kwargs)
        except SystemExit as exc:
            _ESCAPED.append(exc)
            return None

    return provide


class _ExceptionOnlyContext(PluginContext):
    """Its provider wrapper isolates ``Exception`` only (the fork's ``except Exception``)."""

    def register_identity_provider(self, provider: IdentityProvider) -> None:
        super().register_identity_provider(_exits_escape(provider))


class ExitingProviderEscapesRuntime(Runtime):
    """A provider's ``SystemExit`` ends the resolution (and, in a real host, the process)."""

    context_class = _ExceptionOnlyContext

    def claim_identity(self, *, engine: Any = None, **context: Any) -> ResolvedIdentity | None:
        _ESCAPED.clear()
        claimed = super().claim_identity(engine=engine, **context)
        if _ESCAPED:
            raise _ESCAPED.pop()
        return claimed


def _lenient_envelope(callback: Callable[..., Any]) -> Callable[..., Any]:
    def pre_agent_identity_set(**kwargs: Any) -> Any:
        result = callback(**kwargs)
        identity = result.get("identity") if isinstance(result, dict) else None
        if isinstance(identity, dict):
            fields = {"soul_md_content": "", **identity}
            return {"identity": IdentitySpec(**fields)}
        return result

    return pre_agent_identity_set


class _LenientEnvelopeContext(PluginContext):
    """Builds a spec from an identity envelope around a mapping ("be liberal in what you
    accept")."""

    def register_hook(self, hook_name: str, callback: Callable[..., Any]) -> None:
        if hook_name == IDENTITY_HOOK:
            callback = _lenient_envelope(callback)
        super().register_hook(hook_name, callback)


class MappingEnvelopesClaimRuntime(Runtime):
    """A raw identity-hook callback's ``{"identity": {...}}`` claims with a spec built from it."""

    context_class = _LenientEnvelopeContext


def mapping_envelopes_claim() -> RuntimeAdapter:
    """KC-RT-002: an envelope around a mapping, not an IdentitySpec, is taken as a claim."""
    return ReferenceAdapter(MappingEnvelopesClaimRuntime, name="mapping_envelopes_claim")


def exiting_provider_escapes() -> RuntimeAdapter:
    """KC-RT-002: a provider raising SystemExit is not skipped; it escapes the resolution."""
    return ReferenceAdapter(ExitingProviderEscapesRuntime, name="exiting_provider_escapes")


# --- KC-RT-004 ----------------------------------------------------------------------------------


class EntryPointsAllOrNothingRuntime(Runtime):
    """Reads entry points the fork's way, ``importlib.metadata.entry_points()`` over every
    distribution at once: one unparsable ``entry_points.txt`` anywhere loses every entry-point
    plugin, with one generic warning."""

    def discover(self) -> Discovery:
        found = super().discover()
        try:
            importlib.metadata.entry_points()
        except Exception as exc:  # noqa: BLE001 - the fork caught everything here
            kept = {k: c for k, c in found.candidates.items() if c.route != "entry_point"}
            warning = f"entry points could not be read ({type(exc).__name__}); none loaded"
            return dataclasses.replace(found, candidates=kept, warnings=(warning,))
        return found


def entry_points_all_or_nothing() -> RuntimeAdapter:
    """KC-RT-004: one distribution with a broken entry_points.txt costs every entry point."""
    return ReferenceAdapter(EntryPointsAllOrNothingRuntime, name="entry_points_all_or_nothing")


# --- KC-RT-005 ----------------------------------------------------------------------------------


class _ContextOnlyContext(PluginContext):
    """Knows only what ``register`` registers through it."""

    def adopt_process_defaults(self, modules: set[str]) -> None:
        return None


class IgnoresImportRegistrationsRuntime(Runtime):
    """Never takes in what a plugin's import registered into the process-default registries."""

    context_class = _ContextOnlyContext


class UnexplainedMissingRuntime(Runtime):
    """Forgets why discovery passed over an entry: an enabled name it did not find is only
    "not found"."""

    def discover(self) -> Discovery:
        return dataclasses.replace(super().discover(), skipped={})


def unexplained_missing() -> RuntimeAdapter:
    """KC-RT-005: a broken entry of a search root is reported without its reason."""
    return ReferenceAdapter(UnexplainedMissingRuntime, name="unexplained_missing")


class _DeadAfterLoadContext(PluginContext):
    """Ignores hooks registered through it once the plugin's registrations are committed."""

    def register_hook(self, hook_name: str, callback: Callable[..., Any]) -> None:
        if self.committed:
            return  # "loading is over": the fork's context was a throwaway
        super().register_hook(hook_name, callback)


class IgnoresLateRegistrationsRuntime(Runtime):
    """What a plugin registers through its kept context after register returned is dropped."""

    context_class = _DeadAfterLoadContext


def ignores_late_registrations() -> RuntimeAdapter:
    """KC-RT-005: a hook registered through a kept context after loading never takes effect."""
    return ReferenceAdapter(IgnoresLateRegistrationsRuntime, name="ignores_late_registrations")


def ignores_import_registrations() -> RuntimeAdapter:
    """KC-RT-005: a fork-style plugin's import-time daemon never runs (its fixed copy loads
    without it)."""
    return ReferenceAdapter(IgnoresImportRegistrationsRuntime, name="ignores_import_registrations")


# --- KC-RT-006 ----------------------------------------------------------------------------------


class _AdoptsEverythingContext(PluginContext):
    """Takes in every entry of the process-default registry, whoever's module defined it."""

    def adopt_process_defaults(self, modules: set[str]) -> None:
        defined = {
            str(getattr(e.startup, "__module__", "") or "")
            for e in background_daemon_registry().list_entries()
        }
        super().adopt_process_defaults(modules | {m for m in defined if m})


class AdoptsEveryDefaultRuntime(Runtime):
    """Each plugin adopts what any import registered into the process defaults."""

    context_class = _AdoptsEverythingContext


def adopts_every_default() -> RuntimeAdapter:
    """KC-RT-006: a daemon another plugin's import registered becomes this plugin's (a clash
    with its own daemon of that name)."""
    return ReferenceAdapter(AdoptsEveryDefaultRuntime, name="adopts_every_default")


# --- KC-RT-011 ----------------------------------------------------------------------------------


class IdentityFirstRequestOnlyEngine(ReasoningEngine):
    """Sends the identity with an engine's first request only ("the model has it now")."""

    sent_identity = False

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        if self.sent_identity:
            return []
        self.sent_identity = True
        return super().system_blocks


def identity_first_request_only() -> RuntimeAdapter:
    """KC-RT-011: only an engine's first request carries the system prompt."""
    return ReferenceAdapter(
        name="identity_first_request_only", engine_class=IdentityFirstRequestOnlyEngine
    )


class BlankPersonaBlockEngine(ReasoningEngine):
    """Always sends the persona block first, an empty persona as an empty text block."""

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        spec = self.identity.spec
        texts = (spec.soul_md_content, spec.system_prompt_content)
        return [{"type": "text", "text": text} for text in texts]


def blank_persona_block() -> RuntimeAdapter:
    """KC-RT-011: an empty persona goes on the wire as a blank text block."""
    return ReferenceAdapter(name="blank_persona_block", engine_class=BlankPersonaBlockEngine)


# --- KC-RT-012 ----------------------------------------------------------------------------------


class _MutableMetadataSpec(IdentitySpec):
    """The fork's spec: the dataclass is frozen, but its metadata is the caller's plain dict."""

    def __post_init__(self) -> None:
        metadata = self.identity_metadata
        super().__post_init__()
        object.__setattr__(self, "identity_metadata", metadata)


class MutableSpecMetadataRuntime(Runtime):
    """Offers plugins a spec type (``agent.identity_spec.IdentitySpec``) whose metadata stays
    mutable."""

    def load(self) -> Any:
        module: Any = importlib.import_module("agent.identity_spec")
        module.IdentitySpec = _MutableMetadataSpec
        return super().load()


def mutable_spec_metadata() -> RuntimeAdapter:
    """KC-RT-012: the spec plugins build keeps the caller's metadata dict, mutable."""
    return ReferenceAdapter(MutableSpecMetadataRuntime, name="mutable_spec_metadata")
