"""The plugin's identity claimants, called directly the way the runtime calls them.

"Claimants" are the plugin's identity providers (``ctx.register_identity_provider``) and any raw
``pre_agent_identity_set`` hook callbacks (``ctx.register_hook``), whose ``{"identity": spec}``
envelope the kit unwraps. The identity checks call each one with ``engine=`` a
:class:`ProbeEngine`, awaiting an async result.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import os
import reprlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Literal, TypeGuard

from kora_conformance import ENV_DISABLE_IDENTITY_PROVIDER, CheckContext
from reference_runtime import (
    DEFAULT_MODEL,
    IDENTITY_HOOK,
    IdentitySpec,
    LoadedPlugin,
    resolve_awaitable,
)

__all__ = [
    "CLOCK_MOVE",
    "ENV_DISABLE",
    "Claimant",
    "DirectCall",
    "ProbeEngine",
    "Round",
    "call_directly",
    "claimants",
    "is_spec",
    "load_plugin",
    "observe",
    "shown",
    "snapshot",
]

#: The variable that silences the Kora identity provider; cleared for every identity check so
#: the operator's environment cannot decide the outcome.
ENV_DISABLE: Final = ENV_DISABLE_IDENTITY_PROVIDER


class ProbeEngine:
    """What a provider receives as ``engine=`` when the kit calls it directly.

    It carries the reference engine's public settings (``model``, ``max_tokens``); the identity
    is what is being built, so there is none yet.
    """

    def __init__(self, model: str = DEFAULT_MODEL, max_tokens: int = 1024) -> None:
        self.model = model
        self.max_tokens = max_tokens

    def __repr__(self) -> str:
        return f"<kora-conformance probe engine model={self.model!r}>"


@dataclasses.dataclass(frozen=True)
class Claimant:
    """One of the plugin's identity callables."""

    kind: Literal["provider", "hook"]
    function: Callable[..., Any]

    @property
    def label(self) -> str:
        """What it is and its name, for a check's report."""
        name = getattr(self.function, "__qualname__", None) or type(self.function).__qualname__
        if self.kind == "provider":
            return f"identity provider {name}"
        return f"{IDENTITY_HOOK} hook {name}"

    def call(self, **kwargs: Any) -> object:
        """Call it as the runtime would, awaiting an async result; exceptions propagate."""
        result: object = self.function(**kwargs)
        if inspect.isawaitable(result):
            result = resolve_awaitable(result)
        return result

    def spec_of(self, result: object) -> object:
        """The spec (or ``None``) a result stands for; anything else comes back unchanged."""
        if self.kind == "hook" and isinstance(result, Mapping):
            return result.get("identity", result)
        return result

    def problem(self, result: object) -> str | None:
        """Why ``result`` breaks KC-ID-001, or ``None``.

        A spec is judged by its real type (``type(result)``), not by ``isinstance``, which a
        stand-in can satisfy by faking ``__class__`` (``unittest.mock.Mock(spec=IdentitySpec)``
        does): a subclass of :class:`IdentitySpec` is a spec, a lookalike is not.
        """
        if self.kind == "provider":
            if result is None or is_spec(result):
                return None
            return f"{self.label} returned {_type_name(result)} ({_safe_repr(result)})"
        if result is None or (isinstance(result, Mapping) and is_spec(result.get("identity"))):
            return None
        return (
            f"{self.label} returned {_type_name(result)} ({_safe_repr(result)}), "
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


def load_plugin(ctx: CheckContext) -> LoadedPlugin:
    """Load the target alone, with :data:`ENV_DISABLE` unset; fail the check if it does not
    load."""
    os.environ.pop(ENV_DISABLE, None)
    _, _, plugin = ctx.load()
    return plugin


@dataclasses.dataclass(frozen=True)
class DirectCall:
    """One direct call of a claimant: what it returned or raised.

    :ivar snapshot: the returned spec's content as it was right after the call (see
        :func:`snapshot`), or ``None`` when no spec came back.
    """

    claimant: Claimant
    result: object = None
    error: Exception | None = None
    snapshot: object = None

    @property
    def spec(self) -> IdentitySpec | None:
        """The valid spec the call returned, if any."""
        spec = self.claimant.spec_of(self.result) if self.error is None else None
        return spec if is_spec(spec) else None


def call_directly(claimant: Claimant, **kwargs: Any) -> DirectCall:
    """Call ``claimant`` with ``engine=`` a fresh :class:`ProbeEngine` (or ``kwargs``)."""
    kwargs = kwargs or {"engine": ProbeEngine()}
    try:
        result = claimant.call(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the plugin's error is what the checks report
        return DirectCall(claimant, error=exc)
    spec = claimant.spec_of(result)
    return DirectCall(claimant, result, snapshot=snapshot(spec) if is_spec(spec) else None)


def is_spec(value: object) -> TypeGuard[IdentitySpec]:
    """``value`` really is an :class:`IdentitySpec` (a subclass's instance included)."""
    return issubclass(type(value), IdentitySpec)


def _type_name(value: object) -> str:
    kind = type(value)
    faked = getattr(value, "__class__", kind)
    if faked is not kind and isinstance(faked, type):
        return f"{kind.__qualname__} posing as {faked.__qualname__}"
    return kind.__qualname__


def _safe_repr(value: object) -> str:
    try:
        return reprlib.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not hide the finding
        return f"<unprintable: {type(exc).__name__}>"


_MAX_DEPTH: Final = 12
_MAX_ITEMS: Final = 200


def snapshot(value: object, depth: int = 0) -> object:  # noqa: PLR0911 - a return per kind
    """A detached, comparable picture of ``value`` and everything it holds, as it is now.

    Containers become tuples (mappings by key, sets sorted by ``repr``); other objects their type
    and attributes, or their ``repr``. Comparing two snapshots of the same object says whether
    its content changed in between, even where the object's own ``==`` is by identity.
    """
    if depth > _MAX_DEPTH:
        return ("...",)
    if value is None or isinstance(value, str | bytes | bool | int | float | complex):
        return (type(value).__name__, value)
    if is_spec(value):
        return (
            "IdentitySpec",
            snapshot(value.soul_md_content, depth + 1),
            snapshot(value.system_prompt_content, depth + 1),
            snapshot(value.identity_metadata, depth + 1),
        )
    if isinstance(value, Mapping):
        items = sorted(
            ((_safe_repr(k), snapshot(v, depth + 1)) for k, v in list(value.items())[:_MAX_ITEMS]),
            key=lambda item: item[0],
        )
        return ("mapping", tuple(items))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(snapshot(v, depth + 1) for v in value[:_MAX_ITEMS]))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(_safe_repr(v) for v in value)))
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return (_type_name(value), snapshot(dict(attributes), depth + 1))
    return (_type_name(value), _safe_repr(value))


def shown(picture: object) -> object:
    """A :func:`snapshot` turned back into plain values, for messages."""
    if not isinstance(picture, tuple) or len(picture) < 2:
        return picture
    kind, *content = picture
    if kind == "IdentitySpec":
        return tuple(shown(part) for part in content)
    if kind == "mapping":
        return {key: shown(value) for key, value in content[0]}
    if kind in {"list", "tuple"}:
        return [shown(item) for item in content[0]]
    return content[0]


@dataclasses.dataclass(frozen=True)
class Round:
    """One pass over the plugin's claimants at one moment of :func:`observe`'s schedule.

    :ivar when: the moment, for messages ("call 2, back to back", "after re-importing ...").
    :ivar calls: one call per claimant, in :func:`claimants` order.
    :ivar same_inputs: the claimants got what call 1 got (an engine of the same settings, no
        further keywords): a deterministic claimant must return what it returned then.
    """

    when: str
    calls: tuple[DirectCall, ...]
    same_inputs: bool = True


#: How far :func:`observe` moves the clock: the year, date, hour, minute and second all change.
CLOCK_MOVE: Final = datetime.timedelta(days=366, hours=1, minutes=1, seconds=1)

_API_BASE_URL: Final = "https://api.anthropic.com"


def _round(when: str, found: Sequence[Claimant], *, same: bool = True, **kwargs: Any) -> Round:
    return Round(when, tuple(call_directly(c, **kwargs) for c in found), same_inputs=same)


def observe(ctx: CheckContext, plugin: LoadedPlugin) -> list[Round]:
    """Call the plugin's claimants across the space the identity rules quantify over.

    The schedule, each a :class:`Round`: calls 1 and 2 back to back; a probe engine with other
    settings; a reference :class:`~reference_runtime.ReasoningEngine`; the clock moved
    (:data:`CLOCK_MOVE`, under freezegun); the claimants a second fresh runtime registers; the
    claimants registered after ``importlib.reload`` of the plugin's modules; and the first
    claimants once more, last. A round that cannot be set up (the plugin's reload raises, its
    second load fails: other checks' findings) is left out.
    """
    first = claimants(plugin)
    rounds = [
        _round("call 1", first, engine=ProbeEngine()),
        _round("call 2, back to back", first, engine=ProbeEngine()),
        _round(
            "a call with another engine (other model and max_tokens)",
            first,
            same=False,
            engine=ProbeEngine(model="kora-conformance-other-model", max_tokens=64),
        ),
    ]
    engine = _reference_engine(ctx)
    if engine is not None:
        rounds.append(_round("a call with a reference ReasoningEngine", first, engine=engine))
    with _clock_moved(CLOCK_MOVE, plugin):
        rounds.append(
            _round(
                "a call after the clock moved 366 days and 1 h 1 min 1 s",
                first,
                engine=ProbeEngine(),
            )
        )
    again = _load_again(ctx)
    if again is not None:
        rounds.append(
            _round("a call in a second fresh runtime", claimants(again), engine=ProbeEngine())
        )
    reloaded = _load_after_reload(ctx, plugin)
    if reloaded is not None:
        rounds.append(
            _round(
                "a call after re-importing the plugin's modules",
                claimants(reloaded),
                engine=ProbeEngine(),
            )
        )
    rounds.append(_round("a last call, after all of the above", first, engine=ProbeEngine()))
    return rounds


def _reference_engine(ctx: CheckContext) -> object | None:
    from reference_runtime import IdentityResolutionError, ReasoningEngine  # noqa: PLC0415

    try:
        return ReasoningEngine(ctx.runtime(), api_key="test-key", base_url=_API_BASE_URL)
    except IdentityResolutionError:
        return None


def _load_again(ctx: CheckContext) -> LoadedPlugin | None:
    return ctx.runtime().load().plugin(ctx.target.name)


def _load_after_reload(ctx: CheckContext, plugin: LoadedPlugin) -> LoadedPlugin | None:
    from kora_conformance.harness import plugin_modules, reload_modules  # noqa: PLC0415

    try:
        reload_modules(plugin_modules(plugin))
    except Exception:  # noqa: BLE001 - a reload that raises is KC-PL-006's finding
        return None
    return _load_again(ctx)


#: Module name prefixes freezegun still patches (and whose frames it lets see the moved clock):
#: the kit, the runtime and plugin namespaces; the plugin's own packages are added per call.
_CLOCK_PATCHED: Final = ("kora_conformance", "reference_runtime", "hermes_plugins", "agent")


@contextmanager
def _clock_moved(delta: datetime.timedelta, plugin: LoadedPlugin) -> Iterator[None]:
    """Freeze the clock ``delta`` from now for the plugin's code.

    freezegun scans every loaded module for references to patch, which with the SDK and
    hypothesis loaded costs most of a second; the others are put on its ignore list, so only the
    kit's, the runtime's and the plugin's modules are scanned (and its stack check, which makes
    code called from an ignored module see real time, lets the kit's frames through).
    """
    import freezegun  # noqa: PLC0415

    from kora_conformance.harness import plugin_modules  # noqa: PLC0415

    own = {m.__name__.partition(".")[0] for m in plugin_modules(plugin)}
    patched = (*_CLOCK_PATCHED, *sorted(own))
    ignore = sorted(
        {
            name.partition(".")[0]
            for name in list(sys.modules)
            if name and not name.startswith(patched) and name != "__main__"
        }
    )
    moment = datetime.datetime.now(datetime.timezone.utc) + delta
    with freezegun.freeze_time(moment, ignore=ignore):
        yield
