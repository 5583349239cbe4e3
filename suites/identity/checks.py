"""KC-ID-001, 002, 005, 007: what the plugin's identity claimants return, call after call.

The kit calls the plugin's identity claimants (its providers and raw identity hooks, see
:mod:`._claimants`) directly, across one schedule (:func:`observe`): calls back
to back, other engines, the clock moved, a second fresh runtime, a re-import. The other identity
checks are in :mod:`.signature` (KC-ID-003), :mod:`.precedence` (KC-ID-004) and :mod:`.wire`
(KC-ID-006).

Checks that need a spec from the plugin skip, pointing at KC-ID-001, when no claimant returns a
valid one on its first call: one root cause is reported once.
"""

from __future__ import annotations

import gc
import inspect
import reprlib
import types
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

from kora_conformance import CheckContext, Suite, needs_identity
from kora_conformance.suites.identity._claimants import (
    Claimant,
    DirectCall,
    Round,
    is_spec,
    load_plugin,
    observe,
    shown,
    snapshot,
)
from reference_runtime import IdentitySpec

suite = Suite("identity")

_PROBE_KEY: Final = "__kora_conformance_probe__"


def _observed(ctx: CheckContext) -> list[Round]:
    """The schedule's rounds; skip when no claimant returns a spec on its first call."""
    rounds = observe(ctx, load_plugin(ctx))
    calls = rounds[0].calls
    if any(call.spec is not None for call in calls):
        return rounds
    if all(call.error is None and call.result is None for call in calls):
        ctx.skip("every identity provider declined (returned None) when called directly")
    return ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")


def _specs(rounds: list[Round]) -> list[tuple[str, DirectCall, IdentitySpec]]:
    return [
        (r.when, call, spec) for r in rounds for call in r.calls if (spec := call.spec) is not None
    ]


@suite.check("KC-ID-001", applies=needs_identity)
def provider_return_type(ctx: CheckContext) -> None:
    """Space: every claimant (provider or raw hook, sync or async) on its first, second and
    later calls; with probe engines of other settings and with a reference ``ReasoningEngine``;
    with the clock moved; as a second fresh runtime and a re-import of the plugin's modules
    register it again. A spec is judged by its real type: a lookalike posing as ``IdentitySpec``
    (a ``Mock(spec=IdentitySpec)``) is another type, a subclass is a spec."""
    rounds = observe(ctx, load_plugin(ctx))
    problems: list[str] = []
    for moment in rounds:
        for call in moment.calls:
            if call.error is not None:
                error = call.error
                problem = f"{call.claimant.label} raised {type(error).__name__}: {error}"
            elif (found := call.claimant.problem(call.result)) is not None:
                problem = found
            else:
                continue
            problems.append(f"{problem} (on {moment.when})")
    ctx.fail_if(
        problems,
        expected="IdentitySpec or None from every identity provider on every call, without "
        "raising (raw hooks: {'identity': IdentitySpec} or None)",
    )


def spec_problems(spec: IdentitySpec) -> list[str]:
    """How ``spec`` breaks contract 1.1, even if it was built around the constructor."""
    problems = []
    soul: object = spec.soul_md_content
    prompt: object = spec.system_prompt_content
    metadata: object = spec.identity_metadata
    if not isinstance(soul, str):
        problems.append(f"soul_md_content is {type(soul).__name__}, not str")
    if not isinstance(prompt, str):
        problems.append(f"system_prompt_content is {type(prompt).__name__}, not str")
    elif not prompt.strip():
        problems.append("system_prompt_content is blank")
    if not isinstance(metadata, Mapping):
        problems.append(f"identity_metadata is {type(metadata).__name__}, not a Mapping")
    else:
        bad_keys = [key for key in metadata if not isinstance(key, str)]
        if bad_keys:
            problems.append(f"identity_metadata has non-str keys {reprlib.repr(bad_keys)}")
        problems += _writable_metadata(metadata)
    for field in ("soul_md_content", "system_prompt_content", "identity_metadata"):
        try:
            setattr(spec, field, getattr(spec, field))
        except (AttributeError, TypeError):
            continue
        problems.append(f"its field {field} can be assigned (the spec must be frozen)")
        break
    return problems


def _writable_metadata(metadata: Mapping[str, Any]) -> list[str]:
    """Whether any of a mapping's ways of changing takes: item assignment, ``update``,
    ``setdefault``, ``|=``."""
    kind = type(metadata).__name__
    if isinstance(metadata, MutableMapping):
        return [f"identity_metadata is a {kind}, a mutable mapping (it must be read-only)"]
    target: Any = metadata
    for how, method, args in _CHANGES:
        try:
            getattr(target, method)(*args)
        except Exception:  # noqa: BLE001 - refusing in any way is what read-only means
            continue
        if _PROBE_KEY in metadata:
            _undo(target)
            return [f"identity_metadata is a {kind} that {how} (it must be read-only)"]
    return []


#: The ways a mapping could change: what the message says, the method, its arguments.
_CHANGES: Final[tuple[tuple[str, str, tuple[Any, ...]], ...]] = (
    ("accepts item assignment", "__setitem__", (_PROBE_KEY, True)),
    ("changes through update()", "update", ({_PROBE_KEY: True},)),
    ("changes through setdefault()", "setdefault", (_PROBE_KEY, True)),
    ("changes through |=", "__ior__", ({_PROBE_KEY: True},)),
)


def _undo(target: Any) -> None:
    for method in ("__delitem__", "pop"):
        try:
            getattr(target, method)(_PROBE_KEY)
        except Exception:  # noqa: BLE001 - best effort: the finding is already made
            continue
        return


def _shared_views(specs: list[IdentitySpec]) -> list[str]:
    """Metadata that is a read-only view over a mapping something else holds (a module's dict,
    say): the holder changes the spec after it was returned. The constructor's view is over a
    private copy nobody else holds."""
    views = {id(m): m for s in specs if type(m := s.identity_metadata) is types.MappingProxyType}
    backings = {
        id(b): b for view in views.values() for b in gc.get_referents(view) if isinstance(b, dict)
    }
    if not backings:
        return []
    ours = {id(views), id(backings), *views}
    problems = []
    for holder in gc.get_referrers(*backings.values()):
        if id(holder) in ours or inspect.isframe(holder):
            continue
        what = _holder(holder)
        problems.append(
            f"identity_metadata is a read-only view over a dict that {what} also holds, so the "
            "spec changes whenever that dict does (build the spec with IdentitySpec(...), which "
            "keeps a private copy)"
        )
        break
    return problems


def _holder(holder: object) -> str:
    if isinstance(holder, dict) and isinstance(holder.get("__name__"), str):
        return f"module {holder['__name__']}'s globals"
    return f"a {type(holder).__name__}"


@suite.check("KC-ID-002", applies=needs_identity)
def well_formed_spec(ctx: CheckContext) -> None:
    """Space: every spec of every call of :func:`observe`'s schedule (first, later, other
    engines, moved clock, second runtime, re-import); its field types; every way of changing a
    mapping (assignment, ``update``, ``setdefault``, ``|=``) and of assigning a field; metadata
    that is a view over a dict something else holds; and, differentially, each spec's whole
    content (nested values included) right after its call against after all the later calls:
    a spec the plugin's code changes after returning it is not read-only."""
    rounds = _observed(ctx)
    found = _specs(rounds)
    for when, call, spec in found:
        problems = spec_problems(spec)
        if problems:
            ctx.fail(
                expected="a well-formed IdentitySpec: str persona, non-blank str system prompt, "
                "read-only metadata with str keys, frozen fields (contract 1.1)",
                seen=f"the spec from {call.claimant.label} ({when}): {'; '.join(problems)}",
            )
    for when, call, spec in found:
        now = snapshot(spec)
        if now != call.snapshot:
            ctx.fail(
                expected="a spec that never changes after it is returned (contract 1.1: deeply "
                "read-only, nested metadata values included)",
                seen=f"the spec from {call.claimant.label} ({when}) changed as the plugin's code "
                f"ran again: {_changed(call.snapshot, now)}",
                detail="the plugin keeps a reference to a mutable value inside the spec (a "
                "module-level dict or list put in the metadata); put a fresh, immutable copy "
                "in each spec (tuples, not lists)",
            )
    problems = _shared_views([spec for _, _, spec in found])
    ctx.fail_if(
        problems,
        expected="read-only metadata that nothing else can change (contract 1.1)",
    )


def _changed(before: object, after: object) -> str:
    """What changed between two snapshots of a spec, field by field and key by key."""
    was, now = shown(before), shown(after)
    if not (isinstance(was, tuple) and isinstance(now, tuple)):
        return f"{reprlib.repr(was)} became {reprlib.repr(now)}"
    changes = []
    for field, a, b in zip(_FIELDS, was, now, strict=False):
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted({*a, *b}):
                if a.get(key, _PROBE_KEY) != b.get(key, _PROBE_KEY):
                    old, new = a.get(key, "(absent)"), b.get(key, "(absent)")
                    changes.append(f"{field}[{key}]: {reprlib.repr(old)} -> {reprlib.repr(new)}")
        else:
            changes.append(f"{field}: {reprlib.repr(a)} -> {reprlib.repr(b)}")
    return "; ".join(changes)


_FIELDS: Final = ("soul_md_content", "system_prompt_content", "identity_metadata")


def _differences(first: object, other: object) -> str:
    if not (is_spec(first) and is_spec(other)):
        return f"{reprlib.repr(first)} then {reprlib.repr(other)}"
    diffs = []
    for field in ("soul_md_content", "system_prompt_content"):
        if getattr(first, field) != getattr(other, field):
            diffs.append(
                f"{field} changed ({reprlib.repr(getattr(first, field))} -> "
                f"{reprlib.repr(getattr(other, field))})"
            )
    a, b = first.identity_metadata, other.identity_metadata
    if a != b:
        keys = sorted(
            {k for k in (*a, *b) if a.get(k, _PROBE_KEY) != b.get(k, _PROBE_KEY)}, key=str
        )
        changes = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys)
        diffs.append(f"identity_metadata changed ({changes})")
    return "; ".join(diffs) or "unequal specs with equal fields (a custom __eq__?)"


def _comparable(call: DirectCall) -> bool:
    """A call KC-ID-005 compares: a spec or ``None`` (errors and wrong types are KC-ID-001's)."""
    return call.error is None and call.claimant.problem(call.result) is None


@suite.check("KC-ID-005", applies=needs_identity)
def deterministic(ctx: CheckContext) -> None:
    """Space: each claimant's result on call 1 against its results across :func:`observe`'s
    schedule with the same inputs: back to back, with a reference engine of the same settings,
    after the clock moved a year, a day, an hour, a minute and a second, as a second fresh
    runtime registers it, after a re-import of the plugin's modules, and last; a spec against
    ``None`` counts. Equal specs each time: a timestamp, a date, a counter, a random or
    per-import value breaks it. (An engine of other settings may get another spec.)"""
    rounds = _observed(ctx)
    first = rounds[0].calls
    for moment in rounds[1:]:
        if not moment.same_inputs:
            continue  # a spec may depend on the engine's settings
        if len(moment.calls) != len(first):
            continue  # the registrations changed: KC-PL-006's finding
        for before, call in zip(first, moment.calls, strict=True):
            if not (_comparable(before) and _comparable(call)):
                continue
            was, now = before.claimant.spec_of(before.result), call.claimant.spec_of(call.result)
            # Content, not ==: a spec class re-imported is another class, and a dataclass's ==
            # is False across classes.
            if (before.snapshot, was is None) != (call.snapshot, now is None):
                ctx.fail(
                    expected="equal specs from repeated calls",
                    seen=f"{call.claimant.label} on {moment.when} differs from call 1: "
                    f"{_differences(was, now)}",
                )


@suite.check("KC-ID-007", applies=needs_identity)
def metadata_names_agent(ctx: CheckContext) -> None:
    """Space: every spec of every call of :func:`observe`'s schedule; ``agent_name`` a
    non-blank str and ``plugin_name``, when present, the key the plugin is enabled by."""
    rounds = _observed(ctx)
    for when, call, spec in _specs(rounds):
        claimant: Claimant = call.claimant
        metadata = spec.identity_metadata
        agent = metadata.get("agent_name")
        if not isinstance(agent, str) or not agent.strip():
            ctx.fail(
                expected="identity_metadata['agent_name'], a non-empty str",
                seen=f"the spec from {claimant.label} ({when}) has agent_name={agent!r} "
                f"(keys: {', '.join(map(str, metadata)) or 'none'})",
            )
        owner = metadata.get("plugin_name", ctx.target.name)
        if owner != ctx.target.name:
            ctx.fail(
                expected=f"identity_metadata['plugin_name'] == {ctx.target.name!r} when present",
                seen=f"the spec from {claimant.label} ({when}) has plugin_name={owner!r}",
            )
