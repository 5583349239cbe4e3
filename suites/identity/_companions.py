"""Identity precedence among companion plugins: who wins when the plugin is not alone.

KC-ID-004 puts the plugin under test among companion directory plugins, each with one identity
provider of a known behaviour (declines, raises, returns the wrong type, claims; see
:mod:`kora_conformance.strategies`), and a renamed copy of the kit's Kora identity probe. Each
trial loads a ``plugins.enabled`` mix into a fresh runtime (an :class:`Arena` shares one
discovery among them) and asks whose identity won; :func:`find_wrong_winner` has hypothesis
search the mixes for one where the first valid provider in enabled order does not.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from kora_conformance import CheckContext
from kora_conformance.probes import PROBES_DIR
from kora_conformance.strategies import BEHAVIOURS, ProviderBehaviour, provider_mixes
from kora_conformance.suites.identity._claimants import ProbeEngine
from reference_runtime import (
    IDENTITY_HOOK,
    Discovery,
    IdentityResolutionError,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
)

__all__ = [
    "KORA_PROBE",
    "MAX_COMPANIONS",
    "Arena",
    "Example",
    "find_wrong_winner",
    "place_kora_probe",
    "winner",
    "write_companions",
]

#: The kit's stand-in for the bundled Kora identity plugin (kora_conformance/probes).
KORA_PROBE: Final = "kora_identity"

#: The key the stand-in takes among companions: the bundled Kora plugin's own, so a plugin that
#: looks for Kora by its key or module (``hermes_plugins.kora``) finds the stand-in.
KORA_KEY: Final = "kora"

#: The most companions KC-ID-004 puts around the plugin in one example.
MAX_COMPANIONS: Final = 4

_COMPANION = '''\
"""Conformance kit companion plugin: a provider that {behaviour}."""

from kora_conformance.strategies import make_provider

provider = make_provider({behaviour!r}, name={name!r})


def register(ctx):
    ctx.register_identity_provider(provider)
'''

_ASYNC_COMPANION = '''\
"""Conformance kit companion plugin: an async provider that {behaviour}."""

from kora_conformance.strategies import make_provider

_behave = make_provider({behaviour!r}, name={name!r})


async def provider(**kwargs):
    return _behave(**kwargs)


def register(ctx):
    ctx.register_identity_provider(provider)
'''

#: A companion's kind: its behaviour, and whether its provider is a coroutine function.
Kind = tuple[ProviderBehaviour, bool]


def write_companions(root: Path) -> dict[Kind, list[str]]:
    """Companion directory plugins in ``root``: :data:`MAX_COMPANIONS` of each behaviour, with
    a sync and with an async provider.

    :returns: each kind's companion names.
    """
    pool: dict[Kind, list[str]] = {}
    for behaviour in BEHAVIOURS:
        for is_async in (False, True):
            template = _ASYNC_COMPANION if is_async else _COMPANION
            for i in range(MAX_COMPANIONS):
                name = f"kc_companion_{'async_' if is_async else ''}{behaviour}_{i}"
                directory = root / name
                directory.mkdir(parents=True)
                (directory / "plugin.yaml").write_text(
                    f"name: {name}\nversion: '0'\nhooks: [{IDENTITY_HOOK}]\n", encoding="utf-8"
                )
                (directory / "__init__.py").write_text(
                    template.format(behaviour=behaviour, name=name), encoding="utf-8"
                )
                pool.setdefault((behaviour, is_async), []).append(name)
    return pool


def place_kora_probe(root: Path, target: str) -> str:
    """Copy the shipped Kora identity probe into ``root`` as :data:`KORA_KEY`, or, when that is
    ``target``'s own key, under the probe's name."""
    name = KORA_KEY if target != KORA_KEY else KORA_PROBE
    source = PROBES_DIR / KORA_PROBE
    directory = root / name
    directory.mkdir(parents=True)
    manifest = (source / "plugin.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace(f"name: {KORA_PROBE}\n", f"name: {name}\n", 1)
    (directory / "plugin.yaml").write_text(manifest, encoding="utf-8")
    (directory / "__init__.py").write_bytes((source / "__init__.py").read_bytes())
    return name


class Arena:
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
        """A fresh runtime with ``plugins.enabled`` = ``enabled``."""
        return _SharedDiscoveryRuntime(self._config(enabled), self._discovery)


class _SharedDiscoveryRuntime(Runtime):
    def __init__(self, config: RuntimeConfig, discovery: Discovery) -> None:
        super().__init__(config)
        self._shared_discovery = discovery

    def discover(self) -> Discovery:
        return self._shared_discovery


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


def winner(ctx: CheckContext, arena: Arena, enabled: list[str]) -> str:
    """Who supplies the identity in a fresh runtime with ``enabled``, described for humans.

    Two engines are built on the runtime, one after the other: a probe engine's resolution, then
    a reference :class:`~reference_runtime.ReasoningEngine`. When they disagree, both winners
    are named ("a for the first engine, b for the second").
    """
    with _environ_kept():
        runtime = arena.runtime(enabled)
        report = runtime.load()
        if report.plugin(ctx.target.name) is None:
            why = report.errors.get(ctx.target.name, "not found")
            return f"nobody: the plugin did not load ({why})"
        try:
            first = runtime.resolve_identity(engine=ProbeEngine())
            second = ReasoningEngine(runtime, api_key="test-key").identity
        except IdentityResolutionError:
            return "nobody: no provider claimed"
    seen = [_who(first), _who(second)]
    if seen[0] == seen[1]:
        return seen[0]
    return f"{seen[0]} for the first engine, {seen[1]} for the second"


def _who(resolved: ResolvedIdentity) -> str:
    return resolved.plugin if resolved.plugin is not None else f"the fallback file {resolved.path}"


class _Mismatch(Exception):
    """A KC-ID-004 example where the wrong plugin won."""


@dataclasses.dataclass(frozen=True)
class Example:
    """A ``plugins.enabled`` mix where the wrong plugin won."""

    enabled: list[str]
    #: The role of each plugin in ``enabled``: ``"target"`` or a companion's behaviour.
    slots: list[str]
    expected: str
    seen: str

    def describe(self, seed: int) -> str:
        """The mix, each plugin's role, and how to replay it."""
        roles = "\n".join(
            f"  {i}. {name}: {'the plugin under test' if slot == 'target' else slot}"
            for i, (name, slot) in enumerate(zip(self.enabled, self.slots, strict=True), 1)
        )
        return (
            f"falsifying example: plugins.enabled = {self.enabled}\n{roles}\n"
            f"replay it with: --kora-seed {seed} -k KC-ID-004"
        )


def find_wrong_winner(
    ctx: CheckContext, arena: Arena, pool: dict[Kind, list[str]], kora: str
) -> Example | None:
    """Search mixes of companions from ``pool`` (and the Kora probe ``kora``, at any place or
    none) around the plugin for one where the winner is not the first valid provider in
    ``plugins.enabled`` order; the smallest such mix found, or ``None``.

    The search uses the session's seed and example budget (``ctx.options``).
    """
    from hypothesis import HealthCheck, given, seed, settings  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    name = ctx.target.name
    failures: list[Example] = []
    examples = st.tuples(
        provider_mixes(max_companions=MAX_COMPANIONS),
        st.none() | st.integers(0, MAX_COMPANIONS + 1),
        st.lists(st.booleans(), min_size=MAX_COMPANIONS, max_size=MAX_COMPANIONS),
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
        mix, kora_at, asyncs = example
        taken = dict.fromkeys(pool, 0)
        names = []
        kinds: dict[str, str] = {}
        for behaviour, is_async in zip(mix.companions, asyncs, strict=False):
            kind = (behaviour, is_async)
            names.append(pool[kind][taken[kind]])
            taken[kind] += 1
            kinds[names[-1]] = f"{behaviour} (async)" if is_async else behaviour
        enabled = list(mix.enabled(name, names))
        slots: list[str] = [
            kinds.get(n, slot) for n, slot in zip(enabled, mix.slots(), strict=True)
        ]
        if kora_at is not None:
            at = min(kora_at, len(enabled))
            enabled.insert(at, kora)
            slots.insert(at, "claims (the Kora identity)")
        expected = next(
            n
            for n, slot in zip(enabled, slots, strict=True)
            if slot == "target" or slot.startswith("claims")
        )
        seen = winner(ctx, arena, enabled)
        if seen != expected:
            failures.append(Example(enabled, slots, expected, seen))
            raise _Mismatch(seen)

    try:
        first_valid_wins()
    except Exception:
        if not failures:
            raise
        # Hypothesis replays the smallest failing example last.
        return failures[-1]
    return None
