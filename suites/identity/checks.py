"""KC-ID-*: the plugin's identity — return type, spec, signature, precedence, determinism, wire.

The kit calls the plugin's identity claimants (its providers and raw identity hooks, see
:mod:`._claimants`) directly, with ``engine=`` a probe engine object, and through fresh
reference runtimes, alone and among companion plugins (:mod:`._companions`).

Checks that need a spec from the plugin skip, pointing at KC-ID-001, when no claimant returns a
valid one: one root cause is reported once.
"""

from __future__ import annotations

import inspect
import reprlib
from collections.abc import Mapping
from typing import Any, Final

from kora_conformance import CheckContext, Suite, needs_identity
from kora_conformance.harness import send_captured
from kora_conformance.suites.identity._claimants import (
    Claimant,
    ProbeEngine,
    call_directly,
    claimants,
    load_plugin,
)
from kora_conformance.suites.identity._companions import (
    Arena,
    find_wrong_winner,
    place_kora_probe,
    winner,
    write_companions,
)
from reference_runtime import IdentityResolutionError, IdentitySpec, LoadedPlugin, ReasoningEngine

suite = Suite("identity")

#: Keywords a future runtime might pass; providers must tolerate them (KC-ID-003).
FUTURE_KEYWORDS: Final[Mapping[str, Any]] = {
    "kora_future_context": "conformance-probe",
    "another_future_keyword": 1,
}

MESSAGES_URL: Final = "https://api.anthropic.com/v1/messages"
API_BASE_URL: Final = "https://api.anthropic.com"

_PROBE_KEY: Final = "__kora_conformance_probe__"


def _specs(ctx: CheckContext, plugin: LoadedPlugin) -> list[tuple[Claimant, IdentitySpec]]:
    """Each claimant's spec from one direct call; skip when none returns one."""
    calls = [call_directly(c) for c in claimants(plugin)]
    specs = [(call.claimant, spec) for call in calls if (spec := call.spec) is not None]
    if specs:
        return specs
    if all(call.error is None and call.result is None for call in calls):
        ctx.skip("every identity provider declined (returned None) when called directly")
    return ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")


@suite.check("KC-ID-001", applies=needs_identity)
def provider_return_type(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    problems = []
    for call in map(call_directly, claimants(plugin)):
        if call.error is not None:
            error = call.error
            problems.append(f"{call.claimant.label} raised {type(error).__name__}: {error}")
        elif (problem := call.claimant.problem(call.result)) is not None:
            problems.append(problem)
    ctx.fail_if(
        problems,
        expected="IdentitySpec or None from every identity provider, without raising "
        "(raw hooks: {'identity': IdentitySpec} or None)",
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
    try:
        setattr(spec, "system_prompt_content", prompt)  # noqa: B010 - probing the frozen field
    except (AttributeError, TypeError):
        pass
    else:
        problems.append("its fields can be assigned (the spec must be frozen)")
    return problems


def _writable_metadata(metadata: Mapping[str, Any]) -> list[str]:
    target: Any = metadata
    kind = type(metadata).__name__
    try:
        target[_PROBE_KEY] = True
    except TypeError:
        return []
    except Exception as exc:  # noqa: BLE001 - any other outcome is reported as found
        return [f"assigning to identity_metadata raised {type(exc).__name__}, not TypeError"]
    del target[_PROBE_KEY]
    return [f"identity_metadata is a {kind} that accepts assignment (it must be read-only)"]


@suite.check("KC-ID-002", applies=needs_identity)
def well_formed_spec(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    for claimant, spec in _specs(ctx, plugin):
        problems = spec_problems(spec)
        if problems:
            ctx.fail(
                expected="a well-formed IdentitySpec: str persona, non-blank str system prompt, "
                "read-only metadata with str keys, frozen fields (contract 1.1)",
                seen=f"the spec from {claimant.label}: {'; '.join(problems)}",
            )


@suite.check("KC-ID-003", applies=needs_identity)
def provider_signature(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    calls: tuple[tuple[str, Mapping[str, Any]], ...] = (
        ("engine=", {}),
        (f"engine= and unknown keywords ({', '.join(FUTURE_KEYWORDS)})", FUTURE_KEYWORDS),
    )
    for claimant in claimants(plugin):
        try:
            signature: inspect.Signature | None = inspect.signature(claimant.function)
        except (TypeError, ValueError):
            signature = None
        for what, extra in calls:
            kwargs = {"engine": ProbeEngine(), **extra}
            try:
                if signature is not None:
                    signature.bind(**kwargs)
                claimant.call(**kwargs)
            except TypeError as exc:
                ctx.fail(
                    expected="providers to accept engine= and unknown extra keywords "
                    "(def provider(*, engine=None, **kwargs))",
                    seen=f"{claimant.label}{claimant.signature()} rejects a call with {what}: "
                    f"TypeError: {exc}",
                )
            except Exception:  # noqa: BLE001 - other errors are KC-ID-001's finding
                pass


@suite.check("KC-ID-004", applies=needs_identity)
def precedence(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    calls = [call_directly(c) for c in claimants(plugin)]
    if not any(call.spec is not None for call in calls):
        if all(call.error is None and call.result is None for call in calls):
            ctx.fail(
                expected="alone, the plugin supplies the identity",
                seen="every identity provider declined (returned None) when called directly",
            )
        ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")
    name = ctx.target.name
    root = ctx.sandbox.scratch / "companions"
    pool = write_companions(root)
    kora = place_kora_probe(root, name)
    arena = Arena(ctx, [root])
    scenarios = (
        ("alone", [name], name),
        ("first, before the Kora identity", [name, kora], name),
        ("second, after the Kora identity", [kora, name], kora),
    )
    for what, enabled, expected in scenarios:
        seen = winner(ctx, arena, enabled)
        if seen != expected:
            ctx.fail(
                expected=f"{what} (plugins.enabled = {enabled}), {expected} wins",
                seen=f"{seen} won",
            )
    example = find_wrong_winner(ctx, arena, pool, kora)
    if example is not None:
        ctx.fail(
            expected=f"the first valid provider in plugins.enabled order ({example.expected}) "
            "to win among companion providers",
            seen=f"{example.seen} won",
            detail=example.describe(ctx.options.seed),
        )


def _differences(first: object, other: object) -> str:
    if not (isinstance(first, IdentitySpec) and isinstance(other, IdentitySpec)):
        return f"{reprlib.repr(first)} then {reprlib.repr(other)}"
    diffs = []
    for field in ("soul_md_content", "system_prompt_content"):
        if getattr(first, field) != getattr(other, field):
            diffs.append(f"{field} changed")
    a, b = first.identity_metadata, other.identity_metadata
    if a != b:
        keys = sorted(
            {k for k in (*a, *b) if a.get(k, _PROBE_KEY) != b.get(k, _PROBE_KEY)}, key=str
        )
        changes = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys)
        diffs.append(f"identity_metadata changed ({changes})")
    return "; ".join(diffs) or "unequal specs with equal fields (a custom __eq__?)"


@suite.check("KC-ID-005", applies=needs_identity)
def deterministic(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    for claimant, first in _specs(ctx, plugin):
        for attempt in (2, 3):
            try:
                again = claimant.spec_of(claimant.call(engine=ProbeEngine()))
            except Exception as exc:  # noqa: BLE001 - the plugin's error is the finding
                again = exc
            if again != first:
                ctx.fail(
                    expected="equal specs from repeated calls",
                    seen=f"call {attempt} of {claimant.label} differs from call 1: "
                    f"{_differences(first, again)}",
                )


@suite.check("KC-ID-006", applies=needs_identity)
def system_prompt_on_the_wire(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    claimant, spec = _specs(ctx, plugin)[0]
    prompt = spec.system_prompt_content
    try:
        engine = ReasoningEngine(ctx.runtime(), api_key="test-key", base_url=API_BASE_URL)
    except IdentityResolutionError as exc:
        ctx.fail(expected="the engine to take the plugin's identity", seen=str(exc))
    sent = send_captured(engine.send, url=MESSAGES_URL)
    if sent.body is None:
        ctx.fail(
            expected="one Messages API request carrying the system prompt",
            seen=f"no request reached the wire ({type(sent.error).__name__}: {sent.error})",
        )
    system = sent.body.get("system")
    blocks = system if isinstance(system, list) else []
    texts = [b.get("text") for b in blocks if isinstance(b, Mapping) and b.get("type") == "text"]
    if prompt not in texts:
        ctx.fail(
            expected=f"the request's system content to carry the system prompt of "
            f"{claimant.label} as a text block ({reprlib.repr(prompt)})",
            seen=f"system = {reprlib.repr(system)}",
            detail="a pre_api_request_mutable hook (this plugin's or another's) may have "
            "overridden 'system'",
        )


@suite.check("KC-ID-007", applies=needs_identity)
def metadata_names_agent(ctx: CheckContext) -> None:
    plugin = load_plugin(ctx)
    for claimant, spec in _specs(ctx, plugin):
        metadata = spec.identity_metadata
        agent = metadata.get("agent_name")
        if not isinstance(agent, str) or not agent.strip():
            ctx.fail(
                expected="identity_metadata['agent_name'], a non-empty str",
                seen=f"the spec from {claimant.label} has agent_name={agent!r} "
                f"(keys: {', '.join(map(str, metadata)) or 'none'})",
            )
        owner = metadata.get("plugin_name", ctx.target.name)
        if owner != ctx.target.name:
            ctx.fail(
                expected=f"identity_metadata['plugin_name'] == {ctx.target.name!r} when present",
                seen=f"the spec from {claimant.label} has plugin_name={owner!r}",
            )
