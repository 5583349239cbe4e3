"""KC-RT-001, KC-RT-002: which identity provider wins, and what happens to the broken ones.

Both checks first replay the fixed scenarios over the kit's static probes, then search
(property-based, :mod:`._search`) orderings of plugins the check generates into its scratch
directory (:mod:`._generated`), whose providers' behaviour the check sets before each session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from hypothesis import strategies as st

from kora_conformance import CheckContext, Suite, always
from kora_conformance.adapter import IdentityOutcome
from kora_conformance.probes import generated, journal
from kora_conformance.probes.common import IDENTITIES, SESSION_HOOK
from kora_conformance.suites.runtime._generated import Form, Installed, install
from kora_conformance.suites.runtime._probing import (
    describe_loading,
    prepare,
    probe_session,
    resolve,
    warnings_logged,
    whose_identity,
)
from kora_conformance.suites.runtime._raw import names_plugin, raw_problems
from kora_conformance.suites.runtime._search import search
from kora_conformance.suites.runtime._shadowing import SHADOWED, shadowing_problems

suite = Suite("runtime")

#: KC-RT-001's generated plugins: every form twice, named so that alphabetical order, the
#: order of forms and the order a runtime discovers them in all differ.
PRECEDENCE_POOL: Final[tuple[tuple[str, Form], ...]] = (
    ("kcg_delta", "directory"),
    ("kcg_alpha", "module"),
    ("kcg_foxtrot", "callable"),
    ("kcg_bravo", "directory"),
    ("kcg_echo", "module"),
    ("kcg_charlie", "callable"),
)
#: KC-RT-002's generated plugins (directories: the forms are KC-RT-001's and KC-RT-004's).
ISOLATION_POOL: Final = ("kci_mike", "kci_kilo", "kci_oscar", "kci_lima", "kci_november")
#: Examples searched per check (each is one runtime session).
BUDGET: Final = 8


#: Resolutions per session: each example is one runtime session in which providers change
#: behaviour between resolutions (they read it at each call).
RESOLUTIONS: Final = 3


@dataclasses.dataclass(frozen=True)
class _Resolution:
    """What one resolution in a session over generated plugins showed."""

    behaviour: dict[str, str]
    problems: list[str]
    messages: list[str]
    #: The plugins in the order they take precedence (the runtime's, or plugins.enabled).
    ranked: list[str]


def _resolve_problems(
    enabled: Sequence[str], behaviour: dict[str, str], outcome: IdentityOutcome, *, order: bool
) -> list[str]:
    """What is wrong with one resolution; with ``order``, also the order providers were
    consulted in (KC-RT-001's concern, not KC-RT-002's)."""
    claimers = [n for n in enabled if behaviour.get(n, "claims") in generated.CLAIMING]
    if not claimers:
        return []
    expected = claimers[0]
    problems = []
    if outcome.system_prompt != generated.identity_of(expected).system_prompt:
        winner = next(
            (n for n in enabled if generated.identity_of(n).system_prompt == outcome.system_prompt),
            None,
        )
        problems.append(
            f"{winner or 'no generated plugin'}'s identity won, not {expected}'s (the first "
            "valid provider in enabled order)"
        )
    if not order:
        return problems
    calls = [e.who for e in journal.events("identity")]
    consulted = calls[: calls.index(expected) + 1] if expected in calls else calls
    before = list(enabled[: enabled.index(expected) + 1])
    if consulted != before:
        problems.append(
            f"providers consulted in the order {consulted} up to the winner, expected {before} "
            "(enabled order)"
        )
    later = sorted({c for c in calls if c in enabled[enabled.index(expected) + 1 :]})
    if later:
        problems.append(
            f"providers after the winner {expected} were consulted ({', '.join(later)}): the "
            "first valid claim ends the resolution"
        )
    return problems


def _session(
    ctx: CheckContext,
    installed: Installed,
    enabled: Sequence[str],
    behaviours: Sequence[dict[str, str]],
    *,
    order: bool,
) -> tuple[list[str], list[_Resolution]]:
    """One session over generated plugins resolving once per behaviour; (the session's own
    problems, each resolution's)."""
    resolutions = []
    with probe_session(
        ctx, enabled, groups=installed.groups, extra_dirs=(installed.plugin_dir,), static=False
    ) as session:
        try:
            hooks = list(session.invoke_hook(SESSION_HOOK, session_id="kora-conformance"))
        except Exception as exc:  # noqa: BLE001 - reported as seen
            hooks = [f"invoke_hook raised {type(exc).__name__}: {exc}"]
        # Without ``order``, the runtime's own precedence order is the reference: whether it is
        # plugins.enabled is KC-RT-001's finding.
        ranked = list(enabled) if order else [n for n in session.loaded if n in enabled]
        for behaviour in behaviours:
            generated.BEHAVIOUR.clear()
            generated.BEHAVIOUR.update(behaviour)
            journal.clear()
            with warnings_logged() as logged:
                try:
                    outcome = session.resolve_identity()
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - not isolating it is the finding
                    problems = [f"resolve_identity raised {type(exc).__name__}: {exc}"]
                else:
                    problems = _resolve_problems(ranked, behaviour, outcome, order=order)
            resolutions.append(_Resolution(behaviour, problems, logged.messages(), ranked))
    own = (
        []
        if hooks == list(enabled)
        else [f"{SESSION_HOOK} callbacks returned {hooks}, expected enabled order"]
    )
    return own, resolutions


def _usable(ctx: CheckContext, installed: Installed) -> list[str]:
    """The generated plugins this runtime loads with their own register function (the ones
    it cannot load are KC-RT-004's finding, not this check's)."""
    names = [p.name for p in installed.plugins]
    journal.clear()
    with probe_session(
        ctx, names, groups=installed.groups, extra_dirs=(installed.plugin_dir,), static=False
    ) as session:
        loaded = set(session.loaded)
    registered = {e.who for e in journal.events("register")}
    decoyed = {e.who for e in journal.events("decoy")}
    return [n for n in names if n in loaded and n in registered and n not in decoyed]


# --- KC-RT-001 ----------------------------------------------------------------------------------


@suite.check("KC-RT-001", applies=always)
def precedence_follows_enabled(ctx: CheckContext) -> None:
    """Space: every ordering of up to six plugins mixing directory plugins and both entry-point
    forms (enabled order, alphabetical order and discovery order all different), any of them
    declining; judged on the winner, the order providers are consulted in (none after the
    winner) and the order hook callbacks run in (the callable form's are coroutine functions,
    awaited); and one key from two search roots (in both
    orders) and from an entry point too, in successive runtimes of one process: only the copy
    that takes precedence is imported and registered."""
    prepare(ctx)
    # probe_alpha sorts (and is discovered) first: enabling it second shows whether the runtime
    # follows plugins.enabled or discovery order; the reverse shows it is not reverse-sorting.
    for enabled in (["probe_zulu", "probe_alpha"], ["probe_alpha", "probe_zulu"]):
        with probe_session(ctx, enabled) as session:
            outcome = resolve(ctx, session, enabled)
            expected = enabled[0]
            if outcome.system_prompt != IDENTITIES[expected].system_prompt:
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, {expected}'s identity (the "
                    "first valid provider in enabled order)",
                    seen=f"{whose_identity(outcome)} won",
                    detail=f"{describe_loading(session)}\nA loader that turns plugins.enabled "
                    "into a set and loads in discovery (alphabetical) order lets the "
                    "first-discovered plugin win.",
                )
    shadowed = shadowing_problems(ctx)
    if shadowed:
        ctx.fail(
            expected=f"one plugin key ({SHADOWED}) from several sources to load once, from the "
            "one that takes precedence: an entry point over a directory, a later search root "
            "over an earlier one",
            seen="; ".join(shadowed),
            detail="key plugins by name across every source before loading, and import a "
            "directory plugin from the copy that won, not a module left by another runtime",
        )
    installed = install(ctx, PRECEDENCE_POOL, label="precedence")
    usable = _usable(ctx, installed)
    if len(usable) < 2:
        return  # the forms did not load: KC-RT-004 reports it
    forms = {p.name: p.describe() for p in installed.plugins}

    @st.composite
    def orderings(draw: st.DrawFn) -> tuple[list[str], list[frozenset[str]]]:
        order = draw(st.permutations(usable))
        enabled = order[: draw(st.integers(2, len(order)))]
        declining = st.sets(st.sampled_from(enabled[:-1])).map(frozenset)
        return enabled, draw(st.lists(declining, min_size=1, max_size=RESOLUTIONS))

    def judge(example: tuple[list[str], list[frozenset[str]]]) -> list[str]:
        enabled, declinings = example
        behaviours = [
            {n: "declines" if n in declining else "claims" for n in enabled}
            for declining in declinings
        ]
        own, resolutions = _session(ctx, installed, enabled, behaviours, order=True)
        for declining, resolution in zip(declinings, resolutions, strict=True):
            if resolution.problems:
                shown = ", ".join(sorted(declining)) or "none"
                return [*own, f"(declining: {shown}) " + "; ".join(resolution.problems)]
        return own

    none: list[frozenset[str]] = [frozenset()]
    explicit = [
        (list(reversed(usable)), none),
        (sorted(usable, reverse=True), none),
        (sorted(usable, key=lambda n: (forms[n].endswith("(directory)"), n)), none),
    ]
    found = search(ctx, orderings(), judge, budget=BUDGET, explicit=explicit)
    if found is not None:
        enabled, _ = found.example
        ctx.fail(
            expected=f"with plugins.enabled = {enabled}, providers consulted and hooks run in "
            "that order, the first valid claim winning",
            seen="; ".join(found.problems),
            detail="plugins: "
            + ", ".join(forms[n] for n in enabled)
            + "\nLoad every plugin, directory or entry point, in one pass over "
            "plugins.enabled.",
        )


# --- KC-RT-002 ----------------------------------------------------------------------------------


def _static_isolation(ctx: CheckContext) -> None:
    scenarios = (
        (["probe_raises", "probe_zulu"], ["probe_raises"]),
        (["probe_wrong_type", "probe_zulu"], ["probe_wrong_type"]),
        (
            ["probe_declines", "probe_raises", "probe_wrong_type", "probe_zulu"],
            ["probe_raises", "probe_wrong_type"],
        ),
    )
    for enabled, bad in scenarios:
        with probe_session(ctx, enabled) as session, warnings_logged() as logged:
            try:
                outcome = session.resolve_identity()
            except Exception as exc:  # noqa: BLE001 - not isolating it is the finding
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, {', '.join(bad)} skipped and "
                    "probe_zulu's identity used",
                    seen=f"resolve_identity raised {type(exc).__name__}: {exc}",
                    detail="wrap each provider: an exception or a return value that is not an "
                    "IdentitySpec becomes None, logged at WARNING with the plugin's name",
                )
            if outcome.system_prompt != IDENTITIES["probe_zulu"].system_prompt:
                ctx.fail(
                    expected=f"with plugins.enabled = {enabled}, probe_zulu's identity (the "
                    "next valid provider)",
                    seen=f"{whose_identity(outcome)} was used",
                    detail=describe_loading(session),
                )
            messages = logged.messages()
            unnamed = [name for name in bad if not any(name in m for m in messages)]
            if unnamed:
                shown = "\n".join(f"  {m}" for m in messages) or "  (none)"
                ctx.fail(
                    expected=f"a WARNING naming each skipped plugin ({', '.join(bad)})",
                    seen=f"no WARNING reaching the root logger names {', '.join(unnamed)}",
                    detail=f"WARNING records during resolution:\n{shown}",
                )


@suite.check("KC-RT-002", applies=always)
def bad_providers_skipped(ctx: CheckContext) -> None:
    """Space: up to five providers in any order, each claiming, declining, raising (an
    ``Exception`` or ``SystemExit``) or returning a wrong type, sync or async, a bad one in
    every position before the winner; raw identity-hook callbacks returning an envelope
    around a mapping or a bare spec before one returning the envelope; judged on the
    winner (the first valid claim), and on a WARNING for each bad provider consulted that names
    its plugin as a word of its own (the providers' function names never contain it)."""
    prepare(ctx)
    _static_isolation(ctx)
    raw = raw_problems(ctx)
    if raw:
        ctx.fail(
            expected="raw pre_agent_identity_set callbacks returning an envelope around a "
            "mapping, or a bare IdentitySpec, skipped with a WARNING naming their plugin; the "
            "next one's envelope {'identity': IdentitySpec} used",
            seen="; ".join(raw),
            detail="a hook callback's result is a claim only as {'identity': IdentitySpec}, "
            "judged by the spec's real type",
        )
    generated.REGISTER.clear()
    installed = install(ctx, [(n, "directory") for n in ISOLATION_POOL], label="isolation")
    bad_kinds = [
        b
        for b in generated.BEHAVIOURS
        if b.removeprefix("async_") in {"raises", "wrong_type", "exits"}
    ]

    def assignment(enabled: list[str]) -> st.SearchStrategy[dict[str, str]]:
        return st.fixed_dictionaries(
            {
                **{n: st.sampled_from(generated.BEHAVIOURS) for n in enabled[:-1]},
                enabled[-1]: st.sampled_from(sorted(generated.CLAIMING)),
            }
        )

    @st.composite
    def mixes(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]]]:
        order = draw(st.permutations(ISOLATION_POOL))
        enabled = order[: draw(st.integers(2, len(order)))]
        return enabled, draw(st.lists(assignment(enabled), min_size=1, max_size=RESOLUTIONS))

    def judge(example: tuple[list[str], list[dict[str, str]]]) -> list[str]:
        enabled, behaviours = example
        _, resolutions = _session(ctx, installed, enabled, behaviours, order=False)
        for resolution in resolutions:
            behaviour, ranked = resolution.behaviour, resolution.ranked
            winner = next((n for n in ranked if behaviour[n] in generated.CLAIMING), None)
            consulted = ranked[: ranked.index(winner)] if winner is not None else ranked
            bad = [n for n in consulted if behaviour[n] in bad_kinds]
            unnamed = [n for n in bad if not any(names_plugin(m, n) for m in resolution.messages)]
            problems = list(resolution.problems)
            if unnamed:
                shown = " | ".join(resolution.messages) or "none"
                problems.append(
                    "no WARNING names the skipped plugin "
                    + ", ".join(f"{n} ({behaviour[n]})" for n in unnamed)
                    + f" as the plugin at fault (WARNING messages: {shown})"
                )
            if problems:
                mix = ", ".join(f"{n}: {behaviour[n]}" for n in enabled)
                return [f"(providers {mix}) " + "; ".join(problems)]
        return []

    # Every bad kind in some position before the winner: four kinds per session.
    explicit: list[tuple[list[str], list[dict[str, str]]]] = [
        (
            list(ISOLATION_POOL),
            [dict(zip(ISOLATION_POOL, [*bad_kinds[i : i + 4], winner], strict=True))],
        )
        for i, winner in ((0, "async_claims"), (len(bad_kinds) - 4, "claims"))
    ]
    found = search(ctx, mixes(), judge, budget=BUDGET, explicit=explicit)
    if found is not None:
        enabled, _ = found.example
        ctx.fail(
            expected=f"with plugins.enabled = {enabled}, the bad providers skipped with a "
            "WARNING naming their plugin, the first valid provider's identity used",
            seen="; ".join(found.problems),
            detail="wrap each provider: await an awaitable, then turn an exception or a value "
            "that is not an IdentitySpec into None, logged at WARNING with the plugin's name",
        )
