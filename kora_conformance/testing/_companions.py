"""Companion plugins kept in memory, and the runtime that discovers them beside real ones."""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from kora_conformance._contract import IDENTITY_HOOK
from reference_runtime import (
    Candidate,
    Discovery,
    IdentitySpec,
    Manifest,
    Runtime,
    RuntimeConfig,
)

if TYPE_CHECKING:
    from kora_conformance.strategies import ProviderBehaviour

__all__ = ["Companions", "HostRuntime"]


class _Host(Protocol):
    """What the companions need of the plugin host they load around."""

    @property
    def name(self) -> str | None:
        """The plugin under test's name, if any."""

    def _before_load(self, what: str) -> None:
        """Refuse ``what`` once the host has loaded."""


_COMPANION_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclasses.dataclass(frozen=True)
class _Companion:
    name: str
    register: Callable[[Any], Any]
    first: bool
    hooks: tuple[str, ...]


class Companions:
    """Other plugins loaded around the plugin under test, kept in memory (nothing is written to
    disk). Each is a real plugin to the runtime: it is enabled, loaded in ``plugins.enabled``
    order and registers through its own context.

    Add them before the host loads (its first call); ``first=True`` puts a companion before the
    plugin under test in ``plugins.enabled`` (companions added with it keep their order), the
    default after it.
    """

    def __init__(self, host: _Host) -> None:
        self._host = host
        self._added: list[_Companion] = []

    def __iter__(self) -> Iterator[str]:
        return iter(c.name for c in self._added)

    def _add(self, companion: _Companion) -> str:
        self._host._before_load(f"add companion plugin {companion.name!r}")
        if _COMPANION_NAME.fullmatch(companion.name) is None:
            msg = (
                f"companion plugin name {companion.name!r} is not a valid plugin name; use "
                "letters, digits, '_' and '-', starting with a letter"
            )
            raise ValueError(msg)
        taken = {c.name for c in self._added} | {self._host.name}
        if companion.name in taken:
            msg = (
                f"companion plugin name {companion.name!r} is already taken in this test; "
                "give each companion its own name"
            )
            raise ValueError(msg)
        self._added.append(companion)
        return companion.name

    def plugin(
        self,
        name: str,
        register: Callable[[Any], Any],
        *,
        first: bool = False,
        hooks: Sequence[str] = (),
    ) -> str:
        """A companion whose ``register(ctx)`` is ``register``; returns its name.

        :param hooks: the hook names its synthesised manifest declares.
        """
        return self._add(_Companion(name, register, first, tuple(hooks)))

    def identity(
        self,
        name: str,
        behaviour: IdentitySpec | ProviderBehaviour | Callable[..., Any] | None = "claims",
        *,
        first: bool = False,
    ) -> str:
        """A companion with one identity provider; returns its name.

        :param behaviour: the provider: an :class:`IdentitySpec` it returns, ``None`` (it
            declines), one of :data:`kora_conformance.strategies.BEHAVIOURS` (``"claims"``,
            ``"declines"``, ``"raises"``, ``"wrong_type"``), or a provider callable itself.
        """
        provider: Callable[..., Any]
        if behaviour is None or isinstance(behaviour, IdentitySpec):
            spec = behaviour

            def provider(**kwargs: Any) -> IdentitySpec | None:
                return spec

        elif isinstance(behaviour, str):
            # hypothesis (which the strategies module imports) costs a second; only here.
            from kora_conformance.strategies import BEHAVIOURS, make_provider  # noqa: PLC0415

            if behaviour not in BEHAVIOURS:
                msg = (
                    f"companion {name!r}: unknown provider behaviour {behaviour!r}; use one of "
                    f"{', '.join(BEHAVIOURS)}, an IdentitySpec, None or a provider callable"
                )
                raise ValueError(msg)
            provider = make_provider(behaviour, name=name)
        else:
            provider = behaviour

        def register(ctx: Any) -> None:
            ctx.register_identity_provider(provider)

        return self._add(_Companion(name, register, first, (IDENTITY_HOOK,)))

    def hook(
        self, name: str, hook: str, callback: Callable[..., Any], *, first: bool = False
    ) -> str:
        """A companion that registers ``callback`` for ``hook``; returns its name."""

        def register(ctx: Any) -> None:
            ctx.register_hook(hook, callback)

        return self._add(_Companion(name, register, first, (hook,)))

    def raising_hook(
        self,
        name: str,
        hook: str,
        error: Exception | None = None,
        *,
        first: bool = False,
    ) -> str:
        """A companion whose callback for ``hook`` raises ``error`` (a ``RuntimeError`` naming
        the companion by default); returns its name."""
        raised = error if error is not None else RuntimeError(f"companion {name!r} raised")

        def callback(**kwargs: Any) -> Any:
            raise raised

        callback.__qualname__ = f"{name}.{hook}"
        return self.hook(name, hook, callback, first=first)

    def _enabled(self, target: str | None) -> tuple[str, ...]:
        before = [c.name for c in self._added if c.first]
        after = [c.name for c in self._added if not c.first]
        return (*before, *([target] if target else []), *after)

    def _candidates(self) -> dict[str, tuple[Candidate, Callable[[Any], Any]]]:
        return {
            c.name: (
                Candidate(
                    c.name,
                    "directory",
                    f"companion plugin {c.name!r} (kora_companions, in memory)",
                    Manifest(name=c.name, version="0", hooks=c.hooks),
                ),
                c.register,
            )
            for c in self._added
        }


class HostRuntime(Runtime):
    """The reference runtime, with in-memory companions among the discovered plugins."""

    def __init__(
        self,
        config: RuntimeConfig,
        companions: Mapping[str, tuple[Candidate, Callable[[Any], Any]]],
    ) -> None:
        super().__init__(config)
        self._companions = dict(companions)

    def discover(self) -> Discovery:
        found = super().discover()
        candidates = dict(found.candidates)
        candidates.update({name: pair[0] for name, pair in self._companions.items()})
        return Discovery(candidates, found.shadowed)

    def import_plugin(
        self, candidate: Candidate
    ) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
        companion = self._companions.get(candidate.key)
        if companion is not None:
            return companion[1], None
        return super().import_plugin(candidate)
