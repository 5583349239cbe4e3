"""The runtime checks over the space of their rules: conforming variants pass, narrow bugs fail.

Each test runs one runtime check in-process, in the kit's sandbox, against a runtime variant: a
conforming one that differs from the reference where the contract leaves room (a warning's
wording, when the variable is read, the order of discovery, the shape of ``system``) must
pass; a broken runtime from :mod:`kora_conformance.mutants.runtimes_rt` must fail its check.
(``tests/test_kit_runtime.py`` certifies every broken runtime through pytest, all checks.)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from kora_conformance._errors import CheckFailed
from kora_conformance.adapter import ReferenceAdapter, RuntimeAdapter
from kora_conformance.isolation._sandbox import sandbox
from kora_conformance.model._catalog import by_id
from kora_conformance.model._check import CheckContext, KitOptions
from kora_conformance.model._suites import implementations
from kora_conformance.mutants import runtimes_lifecycle, runtimes_mut, runtimes_rt
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
    read_fallback_identity,
    resolve_awaitable,
)


def run_check(check_id: str, adapter: RuntimeAdapter) -> CheckFailed | None:
    """Run the check ``check_id`` against ``adapter``; its failure, or ``None`` if it passed."""
    implementation = implementations()[check_id]
    with sandbox() as box:
        ctx = CheckContext(
            by_id(check_id),
            None,  # type: ignore[arg-type]  # runtime checks read no target
            box,
            None,  # type: ignore[arg-type]  # nor a profile
            KitOptions(),
            adapter=adapter,
        )
        try:
            implementation.function(ctx)
        except CheckFailed as failure:
            return failure
    return None


# --- conforming variants ------------------------------------------------------------------------


class EntryPointsDiscoveredFirst(Runtime):
    """Discovery lists entry points before directories; loading still follows the list."""

    def discover(self) -> Discovery:
        found = super().discover()
        ordered = sorted(found.candidates.items(), key=lambda kv: kv[1].route == "directory")
        found.candidates.clear()
        found.candidates.update(ordered)
        return found


def _bracketed(plugin: str, provider: IdentityProvider) -> Callable[..., Any]:
    def pre_agent_identity_set(**kwargs: Any) -> Mapping[str, IdentitySpec] | None:
        try:
            spec = provider(**kwargs)
            if not isinstance(spec, IdentitySpec) and spec is not None:
                spec = resolve_awaitable(spec) if hasattr(spec, "__await__") else spec
        except Exception as exc:  # noqa: BLE001 - isolated
            logging.getLogger("fork").warning("[%s] provider failed (%s)", plugin, exc)
            return None
        if spec is None:
            return None
        if not isinstance(spec, IdentitySpec):
            logging.getLogger("fork").warning("[%s] provider gave a %s", plugin, type(spec))
            return None
        return {"identity": spec}

    return pre_agent_identity_set


class _BracketedContext(PluginContext):
    def register_identity_provider(self, provider: IdentityProvider) -> None:
        self.identity_providers.append(provider)
        self.register_hook(IDENTITY_HOOK, _bracketed(self.name, provider))


class BracketedWarnings(Runtime):
    """Its WARNINGs name the plugin as ``[plugin]``, in a logger of its own."""

    context_class = _BracketedContext


class EnvReadAtStart(Runtime):
    """Reads ``KORA_SYSTEM_PROMPT_PATH`` once, when the runtime is constructed."""

    def __init__(self, config: RuntimeConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.prompt_env = {k: v for k, v in os.environ.items() if k == "KORA_SYSTEM_PROMPT_PATH"}

    def fallback_identity(self, system_prompt_path: Path | None = None) -> ResolvedIdentity:
        explicit = system_prompt_path or self.config.system_prompt_path
        default = self.config.default_system_prompt_path
        return read_fallback_identity(explicit, default, self.prompt_env)


class OneStringSystem(ReasoningEngine):
    """Sends ``system`` as one string: the persona, a blank line, the system prompt."""

    def send(self, content: Any, *, max_tokens: int | None = None) -> Any:
        spec = self.identity.spec
        joined = f"{spec.soul_md_content}\n\n{spec.system_prompt_content}"
        messages = [{"role": "user", "content": content}]
        return self._anthropic().messages.create(
            model=self.model,
            max_tokens=max_tokens or self.max_tokens,
            system=joined,
            messages=messages,  # type: ignore[arg-type]
        )


CONFORMING: list[tuple[str, RuntimeAdapter]] = [
    ("KC-RT-001", ReferenceAdapter(EntryPointsDiscoveredFirst, name="ep_discovered_first")),
    ("KC-RT-004", ReferenceAdapter(EntryPointsDiscoveredFirst, name="ep_discovered_first")),
    ("KC-RT-002", ReferenceAdapter(BracketedWarnings, name="bracketed_warnings")),
    ("KC-RT-003", ReferenceAdapter(EnvReadAtStart, name="env_read_at_start")),
    ("KC-RT-009", ReferenceAdapter(EnvReadAtStart, name="env_read_at_start")),
    ("KC-RT-010", ReferenceAdapter(name="one_string_system", engine_class=OneStringSystem)),
    ("KC-RT-011", ReferenceAdapter(name="one_string_system", engine_class=OneStringSystem)),
]


@pytest.mark.parametrize(("check_id", "adapter"), CONFORMING, ids=lambda v: getattr(v, "name", v))
def test_a_conforming_variant_passes(check_id: str, adapter: RuntimeAdapter) -> None:
    failure = run_check(check_id, adapter)

    assert failure is None, str(failure)


# --- broken runtimes the narrower checks let through --------------------------------------------

BROKEN: list[tuple[str, Callable[[], RuntimeAdapter], str]] = [
    ("KC-RT-001", runtimes_rt.directories_first, "kcg_bravo's identity won"),
    ("KC-RT-001", runtimes_rt.consults_all, "providers after the winner"),
    ("KC-RT-002", runtimes_rt.unattributed_warnings, "no WARNING names the skipped plugin"),
    ("KC-RT-002", runtimes_rt.unawaited_providers, "async_claims"),
    ("KC-RT-003", runtimes_rt.missing_env_falls_through, "names a missing file"),
    ("KC-RT-004", runtimes_rt.register_by_name, "not setup_plugin"),
    ("KC-RT-005", runtimes_rt.keeps_listeners, "listener kc_gen_kcr_half still registered"),
    ("KC-RT-006", runtimes_rt.owner_only_comparison, "kcd_clash loaded"),
    ("KC-RT-007", runtimes_rt.stops_at_raising_shutdown, "every one shut down"),
    ("KC-RT-008", runtimes_rt.resolves_per_request, "requests"),
    ("KC-RT-009", runtimes_rt.default_path_reported, "default-prompt.md"),
    ("KC-RT-010", runtimes_rt.persona_first_request_only, "request 2 of engine 1"),
    ("KC-RT-001", runtimes_mut.first_root_wins, "expected only root_b's"),
    ("KC-RT-001", runtimes_mut.hooks_never_awaited, "callbacks returned"),
    ("KC-RT-002", runtimes_mut.exiting_provider_escapes, "resolve_identity raised SystemExit"),
    ("KC-RT-002", runtimes_mut.mapping_envelopes_claim, "won, not kcw_good's envelope"),
    ("KC-RT-004", runtimes_mut.entry_points_all_or_nothing, "kcu_alpha, a good entry point"),
    ("KC-RT-005", runtimes_mut.unexplained_missing, "the entry passed over and why"),
    ("KC-RT-005", runtimes_mut.ignores_import_registrations, "daemon names: []"),
    ("KC-RT-005", runtimes_mut.ignores_late_registrations, "invoke_hook('on_session_end')"),
    ("KC-RT-006", runtimes_mut.adopts_every_default, "runs in a runtime that does not load"),
    ("KC-RT-007", runtimes_lifecycle.daemons_only_coordinator, "kc_gen_only, which has no entry"),
    ("KC-RT-007", runtimes_lifecycle.plugin_chooses_exit_status, "exit status 7, expected 1"),
    ("KC-RT-007", runtimes_lifecycle.periodic_exit_swallowed, "on its first fire"),
    ("KC-RT-007", runtimes_lifecycle.no_listener_side_tasks, "kc_gen_multi.rollup fired 0 times"),
    ("KC-RT-011", runtimes_mut.identity_first_request_only, "request 2 of engine 1"),
    ("KC-RT-011", runtimes_mut.blank_persona_block, "blank text block"),
    ("KC-RT-012", runtimes_mut.mutable_spec_metadata, "setting a metadata key succeeded"),
]


@pytest.mark.parametrize(
    ("check_id", "factory", "seen"), BROKEN, ids=lambda v: getattr(v, "__name__", v)
)
def test_a_broken_runtime_fails_its_check(
    check_id: str, factory: Callable[[], RuntimeAdapter], seen: str
) -> None:
    failure = run_check(check_id, factory())

    assert failure is not None
    assert seen in str(failure)
