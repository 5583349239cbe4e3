"""The pytest nodes of a certification run: one collector per target, one item per check.

Node IDs read ``kora-conformance::<target>::<check ID>``, so ``-k KC-ID-004`` and ``-k marvin``
select as users expect.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn, Protocol

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from kora_conformance._errors import CheckFailed, CheckProcessError
from kora_conformance.isolation._child import Result
from kora_conformance.model._catalog import Check, Scope, iter_checks
from kora_conformance.model._check import Implementation, Profile
from kora_conformance.model._targets import Target
from kora_conformance.run._exemptions import Exemption
from kora_conformance.run._results import REGISTRATIONS_CHECK

__all__ = [
    "RUN_STATE_KEY",
    "SUITES_KEY",
    "CheckItem",
    "Passage",
    "RunState",
    "SuitesCollector",
    "TargetCollector",
    "format_failure",
    "passage_or_none",
]


class RunState(Protocol):
    """What the nodes of a certification run ask of the run (kept in ``config.stash``)."""

    @property
    def targets(self) -> list[Target]:
        """The targets certified, in order."""

    @property
    def implementations(self) -> dict[str, Implementation]:
        """Catalog ID → the suites' implementation."""

    @property
    def gate(self) -> str:
        """Which failures fail the run: ``"all"`` or ``"must"``."""

    def profile(self, target: Target) -> Profile:
        """What ``target`` registers."""

    def run(self, target: Target, check_id: str, profile: Profile) -> Result:
        """The result of one check on ``target``."""

    def exemption(self, target: Target, check_id: str) -> Exemption | None:
        """The exemption declared for ``check_id`` on ``target``, if any."""

    def exemption_problem(self, exemption: Exemption) -> str | None:
        """Why ``exemption`` cannot be honoured today, or ``None``."""


#: The run's state, set by the session before collection.
RUN_STATE_KEY = pytest.StashKey[RunState]()

#: The root node's ID.
ROOT_NODEID = "kora-conformance"


def format_failure(check: Check, target: Target, failure: CheckFailed) -> str:
    """The message a failed check prints: ID, rule, expected, seen, fix and where to read more."""
    kind = "runtime" if target.route == "runtime" else "plugin"
    lines = [
        f"{check.id} ({check.level}) {check.title}: {kind} {target.name!r} breaks the rule",
        f"  rule:     {check.rule}",
        f"  expected: {failure.expected}",
        f"  seen:     {failure.seen}",
        f"  fix:      {check.fix}",
        f"  docs:     {check.docs}",
    ]
    if failure.detail:
        lines += ["", *("  " + line for line in failure.detail.splitlines())]
    return "\n".join(lines)


class Passage(pytest.Directory):
    """A directory on the way from pytest's root to the suites; it collects only the next step.

    Without it pytest would collect every ancestor of the suites as usual: an ancestor with an
    ``__init__.py`` (a plugin directory holding the virtual environment the kit runs from, say)
    would become a package and be imported outside any sandbox.
    """

    def collect(self) -> Iterator[pytest.Collector]:
        target: Path = self.config.stash[SUITES_KEY]
        step = self.path / target.relative_to(self.path).parts[0]
        node = self.ihook.pytest_collect_directory(path=step, parent=self)
        if node is not None:
            yield node


#: The directory a kit run collects (the suites, or the self-test's root).
SUITES_KEY = pytest.StashKey[Path]()


def passage_or_none(path: Path, parent: pytest.Collector) -> Passage | None:
    """A :class:`Passage` for ``path`` if it is an ancestor of the run's suites directory."""
    if path in parent.config.stash[SUITES_KEY].parents:
        return Passage.from_parent(parent, path=path)
    return None


class SuitesCollector(pytest.Directory):
    """The root of a certification run: one child per target."""

    def collect(self) -> Iterator[pytest.Collector]:
        for target in self.config.stash[RUN_STATE_KEY].targets:
            yield TargetCollector.from_parent(self, name=target.name, target=target)


class TargetCollector(pytest.Collector):
    """The checks for one target, in catalog order."""

    def __init__(self, *, target: Target, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def collect(self) -> Iterator[pytest.Item]:
        implementations = self.config.stash[RUN_STATE_KEY].implementations
        scope: Scope = "runtime" if self.target.route == "runtime" else "plugin"
        for check in iter_checks(scope):
            yield CheckItem.from_parent(
                self, name=check.id, check=check, impl=implementations.get(check.id)
            )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.target.location


class CheckItem(pytest.Item):
    """One check run against one target."""

    def __init__(self, *, check: Check, impl: Implementation | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.impl = impl
        self.target: Target = self.parent.target  # type: ignore[union-attr]
        #: Set when a SHOULD check fails without failing the run (``--kora-gate must``).
        self.warning: CheckFailed | None = None
        #: Set when a failure is covered by a valid exemption: its reason, and the failure.
        self.exempted: tuple[str, CheckFailed] | None = None
        #: Seconds the check took in its own process (it may have run ahead of this item).
        self.elapsed: float | None = None
        #: What the check, passing, said it did not judge (see ``CheckContext.note``).
        self.note = ""
        self.add_marker(pytest.mark.kora_check(check.id, level=check.level))
        self.user_properties += [
            ("kora_check", check.id),
            ("kora_level", check.level),
            ("kora_target", self.target.name),
        ]

    @property
    def state(self) -> RunState:
        """The run this item belongs to."""
        return self.config.stash[RUN_STATE_KEY]

    def runtest(self) -> None:
        # The invoking project's warning filters (``filterwarnings = error``, say) are not the
        # contract: a warning from plugin code is reported, never turned into a failure.
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            self._run()

    def _run(self) -> None:
        if self.impl is None:
            self._skip("this kit version does not implement the check yet")
        state = self.state
        profile = state.profile(self.target)
        if self.check.id == REGISTRATIONS_CHECK:
            # What the verdict rests on travels with one item's report (see Results.record).
            self.user_properties.append(("kora_registrations", json.dumps(profile.registrations)))
        reason = self.impl.applies(profile)
        if reason is not None:
            self._skip(reason)
        result = state.run(self.target, self.check.id, profile)
        self.elapsed = result.duration
        self.note = result.note
        for key, text in (("stdout", result.output), ("log", result.log)):
            if text:
                self.add_report_section("call", key, text)
        if result.status == "skipped":
            self._skip(result.seen)
        if result.status == "error":
            raise CheckProcessError(result.seen, result.detail)
        exemption = state.exemption(self.target, self.check.id)
        if result.status == "failed":
            failure = CheckFailed(result.expected, result.seen, result.detail)
            if exemption is not None:
                problem = state.exemption_problem(exemption)
                if problem is None:
                    reason = f"{exemption.reason} (declared in {exemption.source})"
                    self.exempted = (reason, failure)
                    return
                failure.detail = f"{failure.detail}\n{problem}".strip()
                raise failure
            if self.check.level == "SHOULD" and state.gate != "all":
                self.warning = failure
                return
            raise failure
        if exemption is not None:
            raise CheckFailed(
                expected="no exemption for a check that passes",
                seen=f"{self.check.id} passes, yet {exemption.source} exempts it",
                detail="remove your exemption: the check is no longer failed",
            )

    @staticmethod
    def _skip(reason: str) -> NoReturn:
        # Report the skip at the item (its check ID), not at this line of the kit.
        raise pytest.skip.Exception(reason, _use_item_location=True)

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailed):
            return format_failure(self.check, self.target, excinfo.value)
        if isinstance(excinfo.value, CheckProcessError):
            return (
                f"{self.check.id}: the check itself raised while certifying {self.target.name!r} "
                "(a plugin error the check did not expect, or a kit bug): "
                f"{excinfo.value.error}\n\n{excinfo.value.detail}"
            )
        header = (
            f"{self.check.id}: the check itself raised while certifying {self.target.name!r} "
            "(a plugin error the check did not expect, or a kit bug)\n"
        )
        return header + str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        path, line = self.path, 0
        if self.impl is not None:
            code = self.impl.function.__code__
            path, line = Path(code.co_filename), code.co_firstlineno - 1
        return path, line, f"{self.check.id} {self.target.name}"
