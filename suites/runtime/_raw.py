"""KC-RT-002's raw identity-hook callbacks: a callback registered with ``register_hook`` on
``pre_agent_identity_set`` claims only with the envelope ``{"identity": IdentitySpec}``."""

from __future__ import annotations

import re
from typing import Final

from kora_conformance import CheckContext
from kora_conformance.probes import generated
from kora_conformance.suites.runtime._generated import install
from kora_conformance.suites.runtime._probing import (
    probe_session,
    warnings_logged,
    whose_identity,
)

__all__ = ["RAW_POOL", "names_plugin", "raw_problems"]


def names_plugin(message: str, plugin: str) -> bool:
    """Whether ``message`` names ``plugin`` as a word of its own (not inside another name)."""
    return re.search(rf"(?<![\w.-]){re.escape(plugin)}(?![\w-])", message) is not None


#: KC-RT-002's raw identity-hook callbacks: (plugin, what its callback returns); their
#: providers decline, so only a valid envelope can claim.
RAW_POOL: Final = (("kcw_bad", "bad_envelope"), ("kcw_bare", "bare_spec"), ("kcw_good", "envelope"))


def raw_problems(ctx: CheckContext) -> list[str]:
    """Raw ``pre_agent_identity_set`` callbacks returning a malformed envelope or a bare spec
    are skipped with a WARNING naming their plugin, before the one returning the envelope."""
    installed = install(ctx, [(n, "directory") for n, _ in RAW_POOL], label="raw")
    generated.REGISTER.clear()
    generated.REGISTER.update({n: f"raw:{kind}" for n, kind in RAW_POOL})
    generated.BEHAVIOUR.clear()
    generated.BEHAVIOUR.update({n: "declines" for n, _ in RAW_POOL})
    enabled = [n for n, _ in RAW_POOL]
    with (
        probe_session(ctx, enabled, extra_dirs=(installed.plugin_dir,), static=False) as session,
        warnings_logged() as logged,
    ):
        try:
            outcome = session.resolve_identity()
        except Exception as exc:  # noqa: BLE001 - not skipping them is the finding
            return [f"resolve_identity raised {type(exc).__name__}: {exc}"]
    problems = []
    winner = enabled[-1]
    if outcome.system_prompt != generated.identity_of(winner).system_prompt:
        problems.append(f"{whose_identity(outcome)} won, not {winner}'s envelope")
    bad = [n for n, kind in RAW_POOL if kind != "envelope"]
    unnamed = [n for n in bad if not any(names_plugin(m, n) for m in logged.messages())]
    if unnamed:
        problems.append(f"no WARNING names the skipped plugin {', '.join(unnamed)}")
    return problems
