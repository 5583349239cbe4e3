"""KC-RT-001's shadowing scenarios: one key from several sources loads once, from the source
that takes precedence (contract 2.1: an entry point over a directory, a later search root over
an earlier one), in a first and in a later runtime of one process."""

from __future__ import annotations

from typing import Final

from kora_conformance import CheckContext
from kora_conformance.probes import journal
from kora_conformance.suites.runtime._generated import install_copies
from kora_conformance.suites.runtime._probing import describe_loading, probe_session

__all__ = ["SHADOWED", "shadowing_problems"]

#: The key every copy is enabled by.
SHADOWED: Final = "kcs_twin"


def shadowing_problems(ctx: CheckContext) -> list[str]:
    """Load :data:`SHADOWED` from each combination of sources, in turn in one process; what went
    wrong (the first scenario that broke), or nothing."""
    copies = install_copies(ctx, SHADOWED)
    a, b = copies.root_a, copies.root_b
    # (search roots, entry points searched, the copy that must load); the third runtime repeats
    # the first's roots in the other order, the key's module already imported from root_b.
    scenarios = (
        ((a, b), False, "root_b"),
        ((b, a), False, "root_a"),
        ((a, b), False, "root_b"),
        ((b, a), True, "entry_point"),
    )
    for number, (roots, entry_points, expected) in enumerate(scenarios, 1):
        journal.clear()
        groups = copies.groups if entry_points else ()
        with probe_session(
            ctx, [SHADOWED], groups=groups, extra_dirs=roots, static=False
        ) as session:
            loaded = list(session.loaded)
            loading = describe_loading(session)
        ran = [str(e.data.get("copy")) for e in journal.events("register", SHADOWED)]
        if ran != [expected] or SHADOWED not in loaded:
            sources = " then ".join(r.name for r in roots)
            extra = " and an entry point of the same name" if entry_points else ""
            return [
                f"runtime {number} (search roots {sources}{extra}): the copies whose register "
                f"ran are {ran}, expected only {expected}'s ({loading})"
            ]
    return []
