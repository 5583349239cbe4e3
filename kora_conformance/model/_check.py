"""How suites define checks, and what a check gets to work with.

A suite module creates a :class:`Suite` and decorates one function per catalog ID::

    suite = Suite("identity")

    @suite.check("KC-ID-005", applies=needs_identity)
    def deterministic(ctx: CheckContext) -> None:
        ...
        ctx.fail(expected="equal specs", seen="...")

The kit runs each function once per target, in a fresh sandbox, with a :class:`CheckContext`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from kora_conformance._contract import IDENTITY_HOOK
from kora_conformance._errors import CheckFailed, CheckSkipped
from kora_conformance.adapter import RuntimeAdapter
from kora_conformance.isolation._sandbox import Sandbox
from kora_conformance.model._catalog import Check, by_id
from kora_conformance.model._targets import PLACEHOLDER, Target
from reference_runtime import LoadedPlugin, LoadReport, Runtime

__all__ = [
    "CheckContext",
    "Implementation",
    "KitOptions",
    "Profile",
    "Suite",
    "all_of",
    "always",
    "needs_callbacks",
    "needs_commands",
    "needs_daemons",
    "needs_identity",
    "needs_load",
    "needs_manifest",
    "needs_tools",
]


@dataclasses.dataclass(frozen=True)
class KitOptions:
    """Session-wide settings a check may read.

    :param max_examples: the budget of property-based checks.
    :param seed: the seed every property-based check uses, for replay.
    :param timeout: the seconds each check's process may run (``--kora-timeout``): a check
        that waits on plugin code keeps well within it.
    """

    max_examples: int = 50
    seed: int = 0
    timeout: float = 120.0


@dataclasses.dataclass(frozen=True)
class Profile:
    """What a target registers, learnt once by loading it in a sandbox; decides applicability."""

    loaded: bool
    load_error: str | None = None
    manifest_path: Path | None = None
    hook_names: tuple[str, ...] = ()
    identity_providers: int = 0
    daemons: int = 0
    listeners: int = 0
    #: How many Hermes-surface registrations the target made, by kind (``"tool"``,
    #: ``"command"``, ``"hook"``, ``"memory_provider"``, ...), in first-registration order.
    registered: tuple[tuple[str, int], ...] = ()
    #: Every registration the target made, as ``(kind, key)``, in order (see ``_coverage``).
    registrations: tuple[tuple[str, str], ...] = ()

    def count(self, *kinds: str) -> int:
        """How many registrations of any of ``kinds`` the target made."""
        return sum(n for kind, n in self.registered if kind in kinds)


Applicability = Callable[[Profile], "str | None"]


def needs_load(profile: Profile) -> str | None:
    """Skip when the plugin does not load (KC-PL-001 reports why)."""
    return None if profile.loaded else "the plugin does not load (see KC-PL-001)"


def needs_manifest(profile: Profile) -> str | None:
    """Skip entry-point plugins that ship no manifest."""
    if profile.manifest_path is None:
        return "the plugin has no plugin.yaml (an entry-point plugin without a manifest)"
    return None


def needs_identity(profile: Profile) -> str | None:
    """Skip plugins without an identity provider (or a raw ``pre_agent_identity_set`` hook)."""
    if (reason := needs_load(profile)) is not None:
        return reason
    if profile.identity_providers or IDENTITY_HOOK in profile.hook_names:
        return None
    return "registers no identity provider"


def needs_daemons(profile: Profile) -> str | None:
    """Skip plugins without background daemons or listeners."""
    if (reason := needs_load(profile)) is not None:
        return reason
    if profile.daemons or profile.listeners:
        return None
    return "registers no background daemons"


def needs_tools(profile: Profile) -> str | None:
    """Skip plugins that register no tools."""
    if (reason := needs_load(profile)) is not None:
        return reason
    return None if profile.count("tool") else "registers no tools"


def needs_commands(profile: Profile) -> str | None:
    """Skip plugins that register no slash commands."""
    if (reason := needs_load(profile)) is not None:
        return reason
    return None if profile.count("command") else "registers no slash commands"


def needs_callbacks(profile: Profile) -> str | None:
    """Skip plugins that register no callback the host calls with keywords: hooks (the identity
    hook aside, which the identity checks cover), middleware, tools or memory providers."""
    if (reason := needs_load(profile)) is not None:
        return reason
    hooks = [name for name in profile.hook_names if name != IDENTITY_HOOK]
    if hooks or profile.count("middleware", "tool", "memory_provider"):
        return None
    return "registers no hook callbacks (besides identity), middleware, tools or memory providers"


def always(profile: Profile) -> str | None:
    """Never skip: the check applies to every target of its scope (a plugin that does not load
    must fail it, not skip it)."""
    return None


def all_of(*conditions: Applicability) -> Applicability:
    """Apply only where every condition applies; the first condition's skip reason wins."""

    def applies(profile: Profile) -> str | None:
        return next((r for c in conditions if (r := c(profile)) is not None), None)

    return applies


@dataclasses.dataclass(frozen=True)
class Implementation:
    """A catalog check bound to the function that performs it."""

    check: Check
    function: Callable[[CheckContext], None]
    applies: Applicability


class Suite:
    """A named group of check implementations (one module per area).

    :param name: the suite's name, for humans.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.implementations: list[Implementation] = []

    def check(
        self, check_id: str, *, applies: Applicability = needs_load
    ) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
        """Bind the decorated function to catalog check ``check_id``.

        :param applies: returns a skip reason for targets the check does not apply to.
        :raises KeyError: ``check_id`` is not in the catalog.
        """
        check = by_id(check_id)

        def decorate(function: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
            self.implementations.append(Implementation(check, function, applies))
            return function

        return decorate


class CheckContext:
    """Everything one check run may use: the target, its sandbox and the session's options."""

    def __init__(
        self,
        check: Check,
        target: Target,
        sandbox: Sandbox,
        profile: Profile,
        options: KitOptions,
        *,
        adapter: RuntimeAdapter | None = None,
    ) -> None:
        self.check = check
        self.target = target
        self.sandbox = sandbox
        self.profile = profile
        self.options = options
        #: The runtime under certification (runtime checks only).
        self.adapter = adapter
        #: What a check that passes says about what it did not judge (see :meth:`note`).
        self.notes: list[str] = []
        #: When the check started, in ``time.monotonic()`` seconds: what its budget
        #: (``options.timeout``) is counted from.
        self.started = time.monotonic()

    def runtime(
        self,
        enabled: Sequence[str] | None = None,
        extra_dirs: Sequence[Path] = (),
        **fields: Any,
    ) -> Runtime:
        """A fresh reference runtime that can discover the target (and ``extra_dirs``).

        :param enabled: the ``plugins.enabled`` list; the target alone by default.
        :param fields: further :class:`~reference_runtime.RuntimeConfig` fields.
        """
        return Runtime(self.target.config(enabled, extra_dirs, **fields))

    def load(
        self,
        runtime: Runtime | None = None,
        *,
        expected: str = "the plugin to load",
        detail: str = "",
    ) -> tuple[Runtime, LoadReport, LoadedPlugin]:
        """Load the target alone (or into ``runtime``); fail the check if it does not load.

        The one place a check loads its target or says why not: ``expected`` and ``detail``
        word the failure for a check whose load is a step of its own (after a reload, say).
        """
        runtime = runtime if runtime is not None else self.runtime()
        report = runtime.load()
        plugin = report.plugin(self.target.name)
        if plugin is None:
            why = report.errors.get(self.target.name) or "it was not found"
            self.fail(expected=expected, seen=f"it did not load: {why}", detail=detail)
        return runtime, report, plugin

    def fail(self, *, expected: str, seen: str, detail: str = "") -> NoReturn:
        """Fail the check: the rule is broken."""
        raise CheckFailed(expected, seen, detail)

    def fail_if(self, problems: Sequence[str], *, expected: str, detail: str = "") -> None:
        """Fail the check if any ``problems`` were found; return when there are none.

        The first problem is what was seen; when there are several, every one is listed in the
        detail, above ``detail``.
        """
        if not problems:
            return
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        lines = [*problems] if more else []
        self.fail(
            expected=expected,
            seen=problems[0] + more,
            detail="\n".join([*lines, detail] if detail else lines),
        )

    @staticmethod
    def give_placeholders(names: Iterable[str]) -> None:
        """Set each of the environment variables ``names`` that is unset (or empty) to the
        kit's placeholder, as the manifest's ``requires_env`` are set for every check: the
        secrets an operator would give (a tool's own ``requires_env``, say). The check's
        sandbox restores the environment afterwards."""
        for name in names:
            if not os.environ.get(name):
                os.environ[name] = PLACEHOLDER

    def note(self, text: str) -> None:
        """Say ``text`` in the outcome of a check that passes: what it could not judge (a
        call still running at its bound, say), without failing or skipping it. A failure or
        a skip says its own reason, and the notes go unused."""
        self.notes.append(text)

    @staticmethod
    def skip(reason: str) -> NoReturn:
        """Skip the check: it does not apply to this target."""
        raise CheckSkipped(reason)
