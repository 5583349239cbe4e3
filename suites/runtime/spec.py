"""KC-RT-012: the runtime's ``IdentitySpec``, as plugins import and build it (contract 1.1)."""

from __future__ import annotations

from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.probes import journal
from kora_conformance.suites.runtime._probing import prepare, probe_session

suite = Suite("runtime")

PROBE: Final = "probe_spec_type"


@suite.check("KC-RT-012", applies=always)
def identity_spec_type(ctx: CheckContext) -> None:
    """Space: the spec type a plugin imports from ``agent.identity_spec`` inside ``register``,
    built positionally and by keyword (equal), with an empty persona and no metadata (an empty
    mapping), assigned to (a field, a metadata key, a key of the default metadata: each
    refused), after the caller changed the dict it passed (unchanged), and built badly (a
    non-str persona or prompt, a blank prompt, a non-str metadata key: each an error naming
    the field)."""
    prepare(ctx)
    with probe_session(ctx, [PROBE]) as session:
        loaded, errors = list(session.loaded), dict(session.load_errors)
    runs = journal.events("spec_trials", PROBE)
    if PROBE not in loaded or not runs:
        ctx.fail(
            expected=f"the probe {PROBE}, which imports IdentitySpec from agent.identity_spec "
            "in register(ctx), to load and try it",
            seen=f"it did not: {errors.get(PROBE, 'no error recorded')}",
            detail="offer the fork's import paths (contract 2.4) to the plugins a runtime loads",
        )
    problems = list(runs[0].data.get("problems", ()))
    if problems:
        ctx.fail(
            expected="IdentitySpec (from agent.identity_spec) built positionally and by "
            "keyword, deeply read-only, and refusing bad values with an error naming the field",
            seen="; ".join(problems),
        )
