"""Hypothesis strategies for the Kora plugin contract, for the kit's suites and your own tests.

The conformance suites draw their examples from these strategies; plugin authors can use them in
their own property-based tests::

    from hypothesis import given
    from kora_conformance.strategies import identity_specs, manifests

    @given(identity_specs())
    def test_my_renderer_accepts_any_identity(spec):
        render(spec)

    @given(manifests(name="my_plugin"))
    def test_my_loader_accepts_valid_manifests(data):
        ...

What is here:

- :func:`identity_specs` — valid :class:`~reference_runtime.IdentitySpec` values (contract 1.1).
- :func:`provider_behaviours`, :func:`provider_mixes` and :func:`make_provider` — identity
  providers that decline, raise, return a wrong type or claim, and mixes of them around a
  plugin under test, with the winner the contract predicts (contract 1.3).
- :func:`manifests` — valid ``plugin.yaml`` documents as dicts (contract 2.2).
- :func:`daemon_names`, :func:`periodic_tasks` and :func:`daemon_entries` — valid background
  daemon names, :class:`~reference_runtime.PeriodicTaskSpec` and
  :class:`~reference_runtime.BackgroundDaemonEntry` values (contract 3.1)::

    @given(daemon_entries(plugin_name="my_plugin"))
    def test_my_host_runs_any_daemon(entry):
        registry = BackgroundDaemonRegistry()
        registry.register(entry)
        ...
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, get_args

from hypothesis import strategies as st

from reference_runtime import (
    KNOWN_HOOKS,
    BackgroundDaemonEntry,
    IdentitySpec,
    PeriodicTaskSpec,
)

__all__ = [
    "BEHAVIOURS",
    "ProviderBehaviour",
    "ProviderMix",
    "daemon_entries",
    "daemon_names",
    "identity_specs",
    "make_provider",
    "manifests",
    "periodic_tasks",
    "plugin_names",
    "provider_behaviours",
    "provider_mixes",
]

#: How a provider behaves when called: ``declines`` returns ``None``; ``raises`` raises
#: ``RuntimeError``; ``wrong_type`` returns a ``str``; ``claims`` returns a valid ``IdentitySpec``.
ProviderBehaviour = Literal["declines", "raises", "wrong_type", "claims"]

#: Every :data:`ProviderBehaviour`, in a fixed order.
BEHAVIOURS: Final[tuple[ProviderBehaviour, ...]] = get_args(ProviderBehaviour)

_NAME_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def plugin_names() -> st.SearchStrategy[str]:
    """Valid plugin names: letters, digits, ``_`` and ``-`` (contract 2.2), 1 to 30 chars."""
    return st.text(_NAME_ALPHABET, min_size=1, max_size=30)


def _texts(*, min_size: int = 0) -> st.SearchStrategy[str]:
    # Printable text, including non-ASCII, without surrogates (they cannot be encoded to send).
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=200)


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | _texts()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts(), inner, max_size=3),
        max_leaves=6,
    )


@st.composite
def _metadata(draw: st.DrawFn, agent_name: str | None, plugin_name: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = draw(st.dictionaries(_texts(), _json_values(), max_size=4))
    if agent_name is not None:
        metadata["agent_name"] = agent_name
    if plugin_name is not None:
        metadata["plugin_name"] = plugin_name
    return metadata


def identity_specs(
    *, agent_name: str | None = None, plugin_name: str | None = None
) -> st.SearchStrategy[IdentitySpec]:
    """Valid identity specs: any persona (possibly empty), a non-blank system prompt, and
    metadata with string keys and JSON-like values.

    :param agent_name: when given, the metadata's ``agent_name`` (the convention KC-ID-007
        checks); otherwise the key may be absent.
    :param plugin_name: when given, the metadata's ``plugin_name``.
    """
    prompts = _texts(min_size=1).filter(lambda text: bool(text.strip()))
    return st.builds(
        IdentitySpec,
        soul_md_content=_texts(),
        system_prompt_content=prompts,
        identity_metadata=_metadata(agent_name, plugin_name),
    )


def provider_behaviours() -> st.SearchStrategy[ProviderBehaviour]:
    """One of :data:`BEHAVIOURS`; shrinks towards ``declines``."""
    return st.sampled_from(BEHAVIOURS)


def make_provider(behaviour: ProviderBehaviour, *, name: str) -> Callable[..., Any]:
    """An identity provider that behaves as ``behaviour`` says, every time it is called.

    It takes ``engine=`` and any further keywords, as the contract requires. A claiming provider
    returns ``IdentitySpec("", "You are <name>.", {"agent_name": name, "plugin_name": name})``.

    :param name: the plugin the provider belongs to; it appears in the spec and in errors.
    """
    spec = IdentitySpec("", f"You are {name}.", {"agent_name": name, "plugin_name": name})

    def provider(*, engine: Any = None, **kwargs: Any) -> Any:
        if behaviour == "raises":
            msg = f"provider of {name} raises on purpose"
            raise RuntimeError(msg)
        if behaviour == "wrong_type":
            return spec.system_prompt_content
        if behaviour == "claims":
            return spec
        return None

    provider.__qualname__ = f"{behaviour}_provider[{name}]"
    return provider


@dataclasses.dataclass(frozen=True)
class ProviderMix:
    """Companion providers around a plugin under test, in ``plugins.enabled`` order.

    :param companions: the companions' behaviours, in enabled order, without the plugin under
        test.
    :param target_index: where the plugin under test goes among them (0 = first).
    """

    companions: tuple[ProviderBehaviour, ...]
    target_index: int

    def __post_init__(self) -> None:
        if not 0 <= self.target_index <= len(self.companions):
            msg = (
                f"target_index must be between 0 and {len(self.companions)}, "
                f"got {self.target_index}"
            )
            raise ValueError(msg)

    def slots(self) -> tuple[ProviderBehaviour | Literal["target"], ...]:
        """The whole enabled order: the companions with ``"target"`` inserted."""
        at = self.target_index
        return (*self.companions[:at], "target", *self.companions[at:])

    def winner_index(self) -> int:
        """Where in :meth:`slots` the winner is: the first slot that claims (the plugin under
        test counts as claiming)."""
        return next(i for i, slot in enumerate(self.slots()) if slot in ("target", "claims"))

    def enabled(self, target: str, names: Sequence[str]) -> tuple[str, ...]:
        """The ``plugins.enabled`` list, given the companions' plugin names in order."""
        if len(names) != len(self.companions):
            msg = f"need {len(self.companions)} companion names, got {len(names)}"
            raise ValueError(msg)
        at = self.target_index
        return (*names[:at], target, *names[at:])


@st.composite
def provider_mixes(draw: st.DrawFn, *, max_companions: int = 5) -> ProviderMix:
    """Mixes of up to ``max_companions`` companion providers with the plugin under test at any
    position. Shrinks towards fewer, declining companions and the plugin first."""
    companions = draw(st.lists(provider_behaviours(), max_size=max_companions))
    index = draw(st.integers(0, len(companions)))
    return ProviderMix(tuple(companions), index)


@st.composite
def manifests(draw: st.DrawFn, *, name: str | None = None) -> dict[str, Any]:
    """Valid ``plugin.yaml`` documents, as the dicts YAML would load them into.

    Core fields only (``name``, ``version``, ``description``, ``author``, ``hooks`` /
    ``provides_hooks`` with known hook names), optional ones present or not.

    :param name: the plugin name to use; drawn with :func:`plugin_names` when omitted.
    """
    data: dict[str, Any] = {"name": name if name is not None else draw(plugin_names())}
    hooks = st.lists(st.sampled_from(sorted(KNOWN_HOOKS)), max_size=4, unique=True)
    optional: dict[str, st.SearchStrategy[Any]] = {
        "version": st.lists(st.integers(0, 999), min_size=1, max_size=3).map(
            lambda parts: ".".join(map(str, parts))
        ),
        "description": _texts(),
        "author": _texts()
        | st.fixed_dictionaries({"name": _texts()}, optional={"email": _texts()}),
        "hooks": hooks,
        "provides_hooks": hooks,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    return data


# --- background daemons (contract 3.1) -----------------------------------------------------------

_DAEMON_NAME_ALPHABET: Final = _NAME_ALPHABET + "."


def daemon_names() -> st.SearchStrategy[str]:
    """Valid daemon names: ASCII letters, digits, ``_``, ``-`` and ``.``, 1 to 40 chars."""
    return st.text(_DAEMON_NAME_ALPHABET, min_size=1, max_size=40)


def _start_sync(coordinator: Any = None) -> None:
    """A no-op ``startup`` that accepts the coordinator in all three call forms."""


async def _start_async(coordinator: Any = None) -> None:
    """An async no-op ``startup`` that accepts the coordinator in all three call forms."""


def _stop_sync() -> None:
    """A no-op ``shutdown``."""


async def _stop_async() -> None:
    """An async no-op ``shutdown``."""


def _tick_sync() -> None:
    """A no-op periodic callback."""


async def _tick_async() -> None:
    """An async no-op periodic callback."""


def periodic_tasks(
    *, min_interval: float = 0.001, max_interval: float = 86_400.0
) -> st.SearchStrategy[PeriodicTaskSpec]:
    """Valid periodic tasks: an interval between ``min_interval`` and ``max_interval`` seconds
    (an ``int`` or a finite ``float``), a sync or async no-op callback, and a name (possibly
    empty, which the spec turns into the callback's qualified name).

    :raises ValueError: ``min_interval`` is not > 0 or exceeds ``max_interval``.
    """
    if not (0 < min_interval <= max_interval) or not math.isfinite(max_interval):
        msg = (
            "periodic_tasks() needs 0 < min_interval <= max_interval, both finite; got "
            f"min_interval={min_interval!r}, max_interval={max_interval!r}"
        )
        raise ValueError(msg)
    intervals: st.SearchStrategy[float] = st.floats(
        min_interval, max_interval, allow_nan=False, allow_infinity=False
    )
    low, high = max(1, math.ceil(min_interval)), math.floor(max_interval)
    if low <= high:
        intervals = st.integers(low, high) | intervals
    return st.builds(
        PeriodicTaskSpec,
        interval_seconds=intervals,
        callback=st.sampled_from([_tick_sync, _tick_async]),
        name=st.just("") | daemon_names(),
    )


def daemon_entries(
    *,
    name: str | None = None,
    plugin_name: str | None = None,
    periodic: bool | None = None,
) -> st.SearchStrategy[BackgroundDaemonEntry]:
    """Valid daemon entries: sync or async no-op lifecycle callbacks (``startup`` accepts the
    coordinator positionally, by keyword and not at all), a periodic task or none, a shutdown
    timeout between 1 ms and a minute, and either fatality flag.

    :param name: the daemon name to use; drawn with :func:`daemon_names` when omitted.
    :param plugin_name: the owning plugin; drawn (possibly empty) when omitted.
    :param periodic: ``True`` for entries with a periodic task (drawn with
        :func:`periodic_tasks`), ``False`` for entries without; either when omitted.
    """
    tasks = periodic_tasks()
    if periodic is None:
        task_strategy: st.SearchStrategy[PeriodicTaskSpec | None] = st.none() | tasks
    else:
        task_strategy = tasks if periodic else st.none()
    return st.builds(
        BackgroundDaemonEntry,
        name=st.just(name) if name is not None else daemon_names(),
        startup=st.sampled_from([_start_sync, _start_async]),
        shutdown=st.sampled_from([_stop_sync, _stop_async]),
        periodic_task=task_strategy,
        shutdown_timeout=st.floats(0.001, 60.0, allow_nan=False),
        plugin_name=st.just(plugin_name)
        if plugin_name is not None
        else st.just("") | plugin_names(),
        fatal_on_startup_failure=st.booleans(),
    )
