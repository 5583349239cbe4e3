"""The plugin's identity claimants, called directly the way the runtime calls them.

"Claimants" are the plugin's identity providers (``ctx.register_identity_provider``) and any raw
``pre_agent_identity_set`` hook callbacks (``ctx.register_hook``), whose ``{"identity": spec}``
envelope the kit unwraps. The identity checks call each one with ``engine=`` a
:class:`ProbeEngine`, awaiting an async result.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import reprlib
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from kora_conformance import CheckContext
from reference_runtime import (
    DEFAULT_MODEL,
    IDENTITY_HOOK,
    IdentitySpec,
    LoadedPlugin,
    resolve_awaitable,
)

__all__ = [
    "ENV_DISABLE",
    "Claimant",
    "DirectCall",
    "ProbeEngine",
    "call_directly",
    "claimants",
    "load_plugin",
]

#: The variable that silences the Kora identity provider; cleared for every identity check so
#: the operator's environment cannot decide the outcome.
ENV_DISABLE: Final = "KORA_DISABLE_IDENTITY_PROVIDER"


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


def load_plugin(ctx: CheckContext) -> LoadedPlugin:
    """Load the target alone, with :data:`ENV_DISABLE` unset; fail the check if it does not
    load."""
    os.environ.pop(ENV_DISABLE, None)
    _, _, plugin = ctx.load()
    return plugin


@dataclasses.dataclass(frozen=True)
class DirectCall:
    """One direct call of a claimant: what it returned or raised."""

    claimant: Claimant
    result: object = None
    error: Exception | None = None

    @property
    def spec(self) -> IdentitySpec | None:
        """The valid spec the call returned, if any."""
        spec = self.claimant.spec_of(self.result) if self.error is None else None
        return spec if isinstance(spec, IdentitySpec) else None


def call_directly(claimant: Claimant) -> DirectCall:
    """Call ``claimant`` with ``engine=`` a fresh :class:`ProbeEngine`."""
    try:
        return DirectCall(claimant, claimant.call(engine=ProbeEngine()))
    except Exception as exc:  # noqa: BLE001 - the plugin's error is what the checks report
        return DirectCall(claimant, error=exc)
