"""KC-ID-*: the plugin's identity — return type, spec, signature, precedence, determinism, wire.

The kit calls the plugin's providers directly (``engine=`` a probe engine object) and through a
fresh reference runtime. "Claimants" are the plugin's identity providers
(``ctx.register_identity_provider``) and any raw ``pre_agent_identity_set`` hook callbacks
(``ctx.register_hook``), whose ``{"identity": spec}`` envelope the kit unwraps.

Checks that need a spec from the plugin skip, pointing at KC-ID-001, when no claimant returns a
valid one: one root cause is reported once.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import reprlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import kora_conformance
from kora_conformance._check import CheckContext, Suite, needs_identity
from kora_conformance.strategies import BEHAVIOURS, ProviderBehaviour, provider_mixes
from reference_runtime import (
    IDENTITY_HOOK,
    Discovery,
    IdentityResolutionError,
    IdentitySpec,
    LoadedPlugin,
    ReasoningEngine,
    Runtime,
    RuntimeConfig,
)
from reference_runtime._dispatch import _run_awaitable
from reference_runtime._engine import DEFAULT_MODEL

suite = Suite("identity")

#: The variable that silences the Kora identity provider; cleared for every identity check so
#: the operator's environment cannot decide the outcome.
ENV_DISABLE: Final = "KORA_DISABLE_IDENTITY_PROVIDER"

#: The kit's stand-in for the bundled Kora identity plugin (kora_conformance/probes).
KORA_PROBE: Final = "kora_identity"
PROBES_DIR: Final = Path(kora_conformance.__file__).resolve().parent / "probes"

#: Keywords a future runtime might pass; providers must tolerate them (KC-ID-003).
FUTURE_KEYWORDS: Final[Mapping[str, Any]] = {
    "kora_future_context": "conformance-probe",
    "another_future_keyword": 1,
}

#: The most companions KC-ID-004 puts around the plugin in one example.
MAX_COMPANIONS: Final = 4

MESSAGES_URL: Final = "https://api.anthropic.com/v1/messages"
API_BASE_URL: Final = "https://api.anthropic.com"

_PROBE_KEY: Final = "__kora_conformance_probe__"


class ProbeEngine:
    """What a provider receives as ``engine=`` when the kit calls it directly.

    It carries the reference engine's public settings (``model``, ``max_tokens``); the identity
    is what is being built, so there is none yet.
    """

    model = DEFAULT_MODEL
    max_tokens = 1024

    def __repr__(self) -> str:
        return "<kora-conformance probe engine>"


@dataclasses.dataclass(frozen=True)
class Claimant:
    """One of the plugin's identity callables."""

    kind: Literal["provider", "hook"]
    function: Callable[..., Any]

    @property
    def label(self) -> str:
        name = getattr(self.function, "__qualname__", None) or type(self.function).__qualname__
        if self.kind == "provider":
            return f"identity provider {name}"
        return f"{IDENTITY_HOOK} hook {name}"

    def call(self, **kwargs: Any) -> object:
        """Call it as the runtime would, awaiting an async result; exceptions propagate."""
        result: object = self.function(**kwargs)
        if inspect.isawaitable(result):
            result = _run_awaitable(result)
        return result

    def spec_of(self, result: object) -> object:
        """The spec (or ``None``) a result stands for; anything else comes back unchanged."""
        if self.kind == "hook" and isinstance(result, Mapping):
            return result.get("identity", result)
        return result

    def problem(self, result: object) -> str | None:
        """Why ``result`` breaks KC-ID-001, or ``None``."""
        if self.kind == "provider":
            if result is None or isinstance(result, IdentitySpec):
                return None
            return f"{self.label} returned {type(result).__name__} ({reprlib.repr(result)})"
        if result is None or (
            isinstance(result, Mapping) and isinstance(result.get("identity"), IdentitySpec)
        ):
            return None
        return (
            f"{self.label} returned {type(result).__name__} ({reprlib.repr(result)}), "
            "not {'identity': IdentitySpec}"
        )

    def signature(self) -> str:
        """The callable's parameter list, as ``inspect`` shows it."""
        try:
            return str(inspect.signature(self.function))
        except (TypeError, ValueError):
            return "(signature unavailable)"


def claimants(plugin: LoadedPlugin) -> list[Claimant]:
    """The plugin's providers, then its raw identity hooks, in registration order."""
    providers = list(plugin.identity_providers)
    found = [Claimant("provider", p) for p in providers]
    for name, callback in plugin.hooks:
        wrapped = getattr(callback, "provider", None)
        if name == IDENTITY_HOOK and not any(wrapped is p for p in providers):
            found.append(Claimant("hook", callback))
    return found


def _load(ctx: CheckContext) -> LoadedPlugin:
    os.environ.pop(ENV_DISABLE, None)
    _, _, plugin = ctx.load()
    return plugin


@dataclasses.dataclass(frozen=True)
class _Direct:
    claimant: Claimant
    result: object = None
    error: Exception | None = None

    @property
    def spec(self) -> IdentitySpec | None:
        spec = self.claimant.spec_of(self.result) if self.error is None else None
        return spec if isinstance(spec, IdentitySpec) else None


def _call_directly(claimant: Claimant) -> _Direct:
    try:
        return _Direct(claimant, claimant.call(engine=ProbeEngine()))
    except Exception as exc:  # noqa: BLE001 - the plugin's error is what the checks report
        return _Direct(claimant, error=exc)


def _specs(ctx: CheckContext, plugin: LoadedPlugin) -> list[tuple[Claimant, IdentitySpec]]:
    """Each claimant's spec from one direct call; skip when none returns one."""
    calls = [_call_directly(c) for c in claimants(plugin)]
    specs = [(call.claimant, spec) for call in calls if (spec := call.spec) is not None]
    if specs:
        return specs
    if all(call.error is None and call.result is None for call in calls):
        ctx.skip("every identity provider declined (returned None) when called directly")
    return ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")


@contextmanager
def _environ_kept() -> Iterator[None]:
    """Undo what plugins do to the environment while registering (one scenario each)."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        if dict(os.environ) != saved:
            os.environ.clear()
            os.environ.update(saved)


@suite.check("KC-ID-001", applies=needs_identity)
def provider_return_type(ctx: CheckContext) -> None:
    plugin = _load(ctx)
    problems = []
    for call in map(_call_directly, claimants(plugin)):
        if call.error is not None:
            error = call.error
            problems.append(f"{call.claimant.label} raised {type(error).__name__}: {error}")
        elif (problem := call.claimant.problem(call.result)) is not None:
            problems.append(problem)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        ctx.fail(
            expected="IdentitySpec or None from every identity provider, without raising "
            "(raw hooks: {'identity': IdentitySpec} or None)",
            seen=problems[0] + more,
            detail="\n".join(problems) if more else "",
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
    plugin = _load(ctx)
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
    plugin = _load(ctx)
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


class _Mismatch(Exception):
    """A KC-ID-004 example where the wrong plugin won."""


@dataclasses.dataclass(frozen=True)
class _Example:
    """A failing KC-ID-004 example."""

    enabled: list[str]
    slots: list[str]
    expected: str
    seen: str

    def describe(self, seed: int) -> str:
        roles = "\n".join(
            f"  {i}. {name}: {'the plugin under test' if slot == 'target' else slot}"
            for i, (name, slot) in enumerate(zip(self.enabled, self.slots, strict=True), 1)
        )
        return (
            f"falsifying example: plugins.enabled = {self.enabled}\n{roles}\n"
            f"replay it with: --kora-seed {seed} -k KC-ID-004"
        )


class _Arena:
    """Fresh runtimes over one set of plugin directories, sharing one discovery.

    Discovery only reads manifests from directories that do not change during the check, so each
    runtime reuses its result; everything else (loading, registering, resolving) is done afresh
    by a new :class:`~reference_runtime.Runtime` every time.
    """

    def __init__(self, ctx: CheckContext, extra_dirs: list[Path]) -> None:
        self._ctx = ctx
        self._dirs = extra_dirs
        self._discovery = Runtime(self._config([ctx.target.name])).discover()

    def _config(self, enabled: list[str]) -> RuntimeConfig:
        return self._ctx.target.config(enabled, self._dirs)

    def runtime(self, enabled: list[str]) -> Runtime:
        return _SharedDiscoveryRuntime(self._config(enabled), self._discovery)


class _SharedDiscoveryRuntime(Runtime):
    def __init__(self, config: RuntimeConfig, discovery: Discovery) -> None:
        super().__init__(config)
        self._shared_discovery = discovery

    def discover(self) -> Discovery:
        return self._shared_discovery


def _winner(ctx: CheckContext, arena: _Arena, enabled: list[str]) -> str:
    """Who supplies the identity in a fresh runtime with ``enabled``, described for humans."""
    with _environ_kept():
        runtime = arena.runtime(enabled)
        report = runtime.load()
        if report.plugin(ctx.target.name) is None:
            why = report.errors.get(ctx.target.name, "not found")
            return f"nobody: the plugin did not load ({why})"
        try:
            resolved = runtime.resolve_identity(engine=ProbeEngine())
        except IdentityResolutionError:
            return "nobody: no provider claimed"
    return resolved.plugin if resolved.plugin is not None else f"the fallback file {resolved.path}"


_COMPANION = '''\
"""Conformance kit companion plugin: a provider that {behaviour}."""

from kora_conformance.strategies import make_provider

provider = make_provider({behaviour!r}, name={name!r})


def register(ctx):
    ctx.register_identity_provider(provider)
'''


def _write_companions(root: Path) -> dict[ProviderBehaviour, list[str]]:
    """Companion directory plugins: :data:`MAX_COMPANIONS` of each behaviour."""
    pool: dict[ProviderBehaviour, list[str]] = {}
    for behaviour in BEHAVIOURS:
        for i in range(MAX_COMPANIONS):
            name = f"kc_companion_{behaviour}_{i}"
            directory = root / name
            directory.mkdir(parents=True)
            (directory / "plugin.yaml").write_text(
                f"name: {name}\nversion: '0'\nhooks: [{IDENTITY_HOOK}]\n", encoding="utf-8"
            )
            (directory / "__init__.py").write_text(
                _COMPANION.format(behaviour=behaviour, name=name), encoding="utf-8"
            )
            pool.setdefault(behaviour, []).append(name)
    return pool


def _place_kora_probe(root: Path, target: str) -> str:
    """Copy the shipped Kora identity probe into ``root``, under a name ``target`` does not use."""
    name = KORA_PROBE if target != KORA_PROBE else f"{KORA_PROBE}_companion"
    source = PROBES_DIR / KORA_PROBE
    directory = root / name
    directory.mkdir(parents=True)
    manifest = (source / "plugin.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace(f"name: {KORA_PROBE}\n", f"name: {name}\n", 1)
    (directory / "plugin.yaml").write_text(manifest, encoding="utf-8")
    (directory / "__init__.py").write_bytes((source / "__init__.py").read_bytes())
    return name


@suite.check("KC-ID-004", applies=needs_identity)
def precedence(ctx: CheckContext) -> None:
    from hypothesis import HealthCheck, given, seed, settings  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    plugin = _load(ctx)
    calls = [_call_directly(c) for c in claimants(plugin)]
    if not any(call.spec is not None for call in calls):
        if all(call.error is None and call.result is None for call in calls):
            ctx.fail(
                expected="alone, the plugin supplies the identity",
                seen="every identity provider declined (returned None) when called directly",
            )
        ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")
    name = ctx.target.name
    root = ctx.sandbox.scratch / "companions"
    pool = _write_companions(root)
    kora = _place_kora_probe(root, name)
    arena = _Arena(ctx, [root])
    scenarios = (
        ("alone", [name], name),
        ("first, before the Kora identity", [name, kora], name),
        ("second, after the Kora identity", [kora, name], kora),
    )
    for what, enabled, expected in scenarios:
        seen = _winner(ctx, arena, enabled)
        if seen != expected:
            ctx.fail(
                expected=f"{what} (plugins.enabled = {enabled}), {expected} wins",
                seen=f"{seen} won",
            )

    failures: list[_Example] = []
    examples = st.tuples(
        provider_mixes(max_companions=MAX_COMPANIONS),
        st.none() | st.integers(0, MAX_COMPANIONS + 1),
    )

    @seed(ctx.options.seed)
    @settings(
        max_examples=ctx.options.max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
    @given(examples)
    def first_valid_wins(example: Any) -> None:
        mix, kora_at = example
        taken = dict.fromkeys(BEHAVIOURS, 0)
        names = []
        for behaviour in mix.companions:
            names.append(pool[behaviour][taken[behaviour]])
            taken[behaviour] += 1
        enabled = list(mix.enabled(name, names))
        slots: list[str] = list(mix.slots())
        if kora_at is not None:
            at = min(kora_at, len(enabled))
            enabled.insert(at, kora)
            slots.insert(at, "claims (the Kora identity)")
        expected = next(
            n
            for n, slot in zip(enabled, slots, strict=True)
            if slot == "target" or slot.startswith("claims")
        )
        seen = _winner(ctx, arena, enabled)
        if seen != expected:
            failures.append(_Example(enabled, slots, expected, seen))
            raise _Mismatch(seen)

    try:
        first_valid_wins()
    except Exception:
        if not failures:
            raise
        # Hypothesis replays the smallest failing example last.
        example = failures[-1]
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
    plugin = _load(ctx)
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


def _message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_kora_conformance",
        "type": "message",
        "role": "assistant",
        "model": DEFAULT_MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


@suite.check("KC-ID-006", applies=needs_identity)
def system_prompt_on_the_wire(ctx: CheckContext) -> None:
    import pytest_httpx2  # noqa: F401, PLC0415 - registers respx's httpcore2 mocker
    import respx  # noqa: PLC0415

    plugin = _load(ctx)
    claimant, spec = _specs(ctx, plugin)[0]
    prompt = spec.system_prompt_content
    try:
        engine = ReasoningEngine(ctx.runtime(), api_key="test-key", base_url=API_BASE_URL)
    except IdentityResolutionError as exc:
        ctx.fail(expected="the engine to take the plugin's identity", seen=str(exc))
    error: Exception | None = None
    with respx.mock(using="httpcore2", assert_all_called=False) as router:
        route = router.post(MESSAGES_URL).respond(200, json=_message("ok"))
        try:
            engine.send("Conformance probe: who are you?")
        except Exception as exc:  # noqa: BLE001 - reported with what reached the wire
            error = exc
    if not route.called:
        ctx.fail(
            expected="one Messages API request carrying the system prompt",
            seen=f"no request reached the wire ({type(error).__name__}: {error})",
        )
    body = json.loads(route.calls.last.request.content)
    system = body.get("system")
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
    plugin = _load(ctx)
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
