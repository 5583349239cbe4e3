"""Outcomes per target and check, verdicts, and the JSON report.

Outcomes travel as data inside each test report's ``user_properties`` (one ``kora_*`` property
per field), so they survive pytest-xdist's trip from worker to controller; the controller
rebuilds the table from them and never parses rendered text.

A verdict states its scope: a target is CONFORMANT only when every catalog check of its scope ran
to an outcome and no MUST check failed. A check that did not run (deselected, not collected, or
the run stopped or was interrupted before it) makes the target INCOMPLETE. A plugin that cannot
load only because the Hermes host is not installed is NEEDS HOST (see ``_host``). A plugin that
fails no MUST check but whose every registration is of a kind no check examines is NOTHING
CHECKED: it passed the registration rules, and the kit can say nothing more of it.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pytest

from kora_conformance.model._catalog import CATALOG, Check
from kora_conformance.model._coverage import Basis, basis
from kora_conformance.model._targets import Target
from kora_conformance.run import _host
from kora_conformance.run._exemptions import Exemption
from kora_conformance.run._findings import Finding, OutcomeName, outcome_of

__all__ = ["Outcome", "Results"]

Verdict = Literal["conformant", "not-conformant", "needs-host", "incomplete", "nothing-checked"]

SCHEMA = "kora-conformance-report/2"
CONTRACT_LEVEL = "1"

#: What an area's checks are called in a summary line ("7 daemon checks ...").
_AREA_NOUNS = {"PL": "plugin", "ID": "identity", "DM": "daemon", "RT": "runtime"}
#: The check whose failure can be the host's absence rather than the plugin's defect.
_LOAD_CHECK = "KC-PL-001"
#: The check whose item carries the target's registrations (``kora_registrations``): it
#: applies to every plugin target.
REGISTRATIONS_CHECK = _LOAD_CHECK


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one check on one target.

    :param applicable: ``False`` for a check of the other scope (a runtime check on a plugin).
    """

    check: Check
    finding: Finding
    applicable: bool = True

    @property
    def outcome(self) -> OutcomeName:
        return self.finding.outcome

    @property
    def message(self) -> str:
        return self.finding.message

    def as_dict(self) -> dict[str, object]:
        f = self.finding
        return {
            "id": self.check.id,
            "level": self.check.level,
            "title": self.check.title,
            "rule": self.check.rule,
            "outcome": f.outcome,
            "message": f.message,
            "expected": f.expected,
            "seen": f.seen,
            "fix": self.check.fix if f.outcome in {"failed", "warned", "exempted"} else "",
            "duration": round(f.duration, 6),
        }


#: A failed row's reason is cut here: the failure above the table and the report have it whole.
_REASON_WIDTH = 100


def _shorten(text: str) -> str:
    return text if len(text) <= _REASON_WIDTH else text[: _REASON_WIDTH - 1].rstrip() + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _group_label(checks: list[Check]) -> str:
    areas = {c.area for c in checks}
    noun = f"{_AREA_NOUNS.get(areas.pop(), '')} check" if len(areas) == 1 else "check"
    return _plural(len(checks), noun.strip())


class Results:
    """The outcome table of a run, filled from test reports."""

    def __init__(
        self, targets: Iterable[Target], exemptions: dict[str, list[Exemption]] | None = None
    ) -> None:
        self.targets = list(targets)
        self.exemptions = exemptions or {}
        self._seen: dict[tuple[str, str], Finding] = {}
        #: ``(target, check ID)`` of items deselected in this process (``-k``, ``--deselect``).
        self.deselected: set[tuple[str, str]] = set()
        #: Why the run ended before every item ran (``-x``, Ctrl-C), if it did.
        self.stopped: str | None = None
        #: Each plugin target's registrations, ``(kind, key)``, as its items reported them.
        self._registrations: dict[str, tuple[tuple[str, str], ...]] = {}

    def record(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "kora_registrations" in props and "kora_target" in props:
            pairs = json.loads(str(props["kora_registrations"]))
            self._registrations[str(props["kora_target"])] = tuple(
                (str(kind), str(key)) for kind, key in pairs
            )
        found = outcome_of(report)
        if found is None:
            return
        target, check_id, finding = found
        previous = self._seen.get((target, check_id))
        # A failure in teardown must not be hidden by the call phase having passed.
        if previous is None or previous.outcome in {"passed", "warned", "exempted"}:
            self._seen[(target, check_id)] = finding

    def _not_run_reason(self, target: Target, check: Check) -> str:
        if (target.name, check.id) in self.deselected:
            return "deselected"
        if self.stopped is not None:
            return self.stopped
        return "not run (deselected, or not collected)"

    def outcomes(self, target: Target) -> list[Outcome]:
        """One outcome per catalog check, in catalog order."""
        scope = "runtime" if target.route == "runtime" else "plugin"
        rows = []
        for check in CATALOG:
            seen = self._seen.get((target.name, check.id))
            if check.scope != scope:
                reason = f"not a {check.scope} target"
                rows.append(Outcome(check, Finding("skipped", reason), applicable=False))
            elif seen is not None:
                rows.append(Outcome(check, seen))
            else:
                rows.append(Outcome(check, Finding("not-run", self._not_run_reason(target, check))))
        return rows

    def _ids(self, target: Target, outcome: str, level: str | None = None) -> list[str]:
        return [
            o.check.id
            for o in self.outcomes(target)
            if o.outcome == outcome and (level is None or o.check.level == level)
        ]

    def failed_musts(self, target: Target) -> list[str]:
        return self._ids(target, "failed", "MUST")

    def not_run(self, target: Target) -> list[str]:
        return self._ids(target, "not-run")

    # --- NEEDS HOST: the environment lacks the Hermes host, the plugin is not judged ----------

    def host_need(self, target: Target) -> _host.HostNeed | None:
        """The host module whose absence stopped ``target`` from loading, if that is why."""
        load = self._seen.get((target.name, _LOAD_CHECK))
        if target.route == "runtime" or load is None or load.outcome != "failed":
            return None
        return _host.needed_host(load.seen or load.message)

    # --- what a verdict rests on ------------------------------------------------------------

    def basis(self, target: Target) -> Basis | None:
        """``target``'s registrations, checked or not covered; ``None`` for a runtime target,
        or a plugin whose registrations were not reported (it did not load, or KC-PL-001 did
        not run)."""
        if target.route == "runtime" or self.host_need(target) is not None:
            return None
        registered = self._registrations.get(target.name)
        load = self._seen.get((target.name, _LOAD_CHECK))
        if registered is None or load is None or load.outcome != "passed":
            return None
        outcomes = {o.check.id: o.outcome for o in self.outcomes(target)}
        return basis(registered, outcomes)

    def basis_line(self, target: Target) -> str | None:
        """``target`` and what its verdict rests on, for the terminal summary."""
        found = self.basis(target)
        return None if found is None else f"{target.label} {found.describe()}"

    # ------------------------------------------------------------------------------------------

    def verdict(self, target: Target) -> Verdict:
        if self.host_need(target) is not None:
            return "needs-host"
        if self.not_run(target):
            return "incomplete"
        if self.failed_musts(target):
            return "not-conformant"
        found = self.basis(target)
        return "nothing-checked" if found is not None and found.nothing_checked else "conformant"

    def overall(self) -> Verdict:
        """The run's verdict: any target not conformant, else any that needs the host, else any
        incomplete, else any with nothing checked, else conformant."""
        verdicts = {self.verdict(t) for t in self.targets}
        for verdict in ("not-conformant", "needs-host", "incomplete", "nothing-checked"):
            if verdict in verdicts:
                return verdict
        return "conformant"

    def verdict_line(self, target: Target) -> str:
        if (need := self.host_need(target)) is not None:
            return f"{target.label}: NEEDS HOST — {need.describe()}"
        failed = self.failed_musts(target)
        failures = (
            f"{_plural(len(failed), 'MUST check')} failed: {', '.join(failed)}" if failed else ""
        )
        not_run = self.not_run(target)
        if not_run:
            reasons = sorted({o.message for o in self.outcomes(target) if o.outcome == "not-run"})
            scope = sum(o.applicable for o in self.outcomes(target))
            line = (
                f"{target.label}: INCOMPLETE — {len(not_run)} of {scope} checks did not run "
                f"({'; '.join(reasons)}): {', '.join(not_run)}"
            )
            return f"{line}; {failures}" if failures else line
        if failed:
            return f"{target.label}: NOT CONFORMANT — {failures}"
        found = self.basis(target)
        if found is not None and found.nothing_checked:
            return (
                f"{target.label}: NOTHING CHECKED — no check examines what it registers "
                f"({found.not_covered_line()}); it passed the registration rules, and the kit "
                "certifies nothing beyond them"
            )
        notes = []
        if warned := self._ids(target, "warned"):
            notes.append(f"warnings: {', '.join(warned)}")
        if exempted := self._ids(target, "exempted"):
            notes.append(f"exempted: {', '.join(exempted)}")
        note = f" ({'; '.join(notes)})" if notes else ""
        return f"{target.label}: CONFORMANT{note}"

    def as_json(self, *, kit_version: str, runtime: dict[str, str], seed: int) -> dict[str, Any]:
        """The ``kora-conformance-report/2`` document (schema: ``report.schema.json``)."""
        targets: list[dict[str, Any]] = [
            {
                "name": t.name,
                "version": t.version,
                "route": t.route,
                "location": t.location,
                "verdict": self.verdict(t),
                "checks": [o.as_dict() for o in self.outcomes(t)],
                "exemptions": [e.as_dict() for e in self.exemptions.get(t.name, [])],
            }
            for t in self.targets
        ]
        for target, entry in zip(self.targets, targets, strict=True):
            if (need := self.host_need(target)) is not None:
                entry["needs_host"] = need.as_dict()
            if (found := self.basis(target)) is not None:
                entry["coverage"] = found.as_dict()
        return {
            "schema": SCHEMA,
            "contract_level": CONTRACT_LEVEL,
            "verdict": self.overall(),
            "kit": {"version": kit_version},
            "runtime": runtime,
            "environment": {
                "python": platform.python_version(),
                "pytest": pytest.__version__,
                "hypothesis_seed": seed,
            },
            "targets": targets,
        }

    def write_json(self, path: Path, **kwargs: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(**kwargs), indent=2) + "\n", encoding="utf-8")

    def table(self, target: Target) -> list[tuple[str, OutcomeName | None]]:
        """The terminal table for one target: ``(line, outcome)`` pairs, for colouring.

        Checks that ran to a pass, failure, warning or exemption get a row each; skipped checks
        and checks that did not run are summarised in one line per reason.
        """
        lines: list[tuple[str, OutcomeName | None]] = [
            (f"{'check':<10} {'level':<6} {'outcome':<8} reason", None)
        ]
        groups: dict[tuple[OutcomeName, str], list[Check]] = {}
        for o in self.outcomes(target):
            if o.outcome in {"skipped", "not-run"}:
                groups.setdefault((o.outcome, o.message), []).append(o.check)
                continue
            message = _shorten(o.message) if o.outcome == "failed" else o.message
            row = f"{o.check.id:<10} {o.check.level:<6} {o.outcome:<8} {message}".rstrip()
            lines.append((row, o.outcome))
        for (outcome, reason), checks in groups.items():
            label = _group_label(checks)
            if outcome == "not-run":
                ids = ", ".join(c.id for c in checks)
                lines.append((f"{label} did not run ({reason}): {ids}", outcome))
            else:
                lines.append((f"{label} skipped: {reason}", outcome))
        return lines
