"""Outcomes per target and check, verdicts, and the JSON report.

Outcomes travel inside each test report's ``user_properties``, so they survive pytest-xdist's
trip from worker to controller; the controller rebuilds the table from them.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pytest

from ._catalog import CATALOG, Check
from ._exemptions import Exemption
from ._targets import Target

__all__ = ["Outcome", "Results", "annotate_report", "outcome_of"]

OutcomeName = Literal["passed", "failed", "warned", "exempted", "skipped"]

SCHEMA = "kora-conformance-report/1"
CONTRACT_LEVEL = "1"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one check on one target."""

    check: Check
    outcome: OutcomeName
    message: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.check.id,
            "level": self.check.level,
            "outcome": self.outcome,
            "message": self.message,
        }


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def annotate_report(
    report: pytest.TestReport, warning: str | None, exempted: str | None = None
) -> None:
    """Record the kit's outcome for ``report`` in its ``user_properties``."""
    props = dict(report.user_properties)
    if "kora_check" not in props:
        return
    outcome: OutcomeName | None = None
    message = ""
    if report.skipped:
        outcome = "skipped"
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        message = message.removeprefix("Skipped: ")
    elif report.failed:
        outcome = "failed"
        lines = str(report.longrepr).splitlines()
        seen = next((line for line in lines if line.strip().startswith("seen:")), "")
        message = seen.strip().removeprefix("seen:").strip() or _first_line(str(report.longrepr))
        if report.when != "call":
            message = f"error during {report.when}: {message}"
    elif report.when == "call":
        if exempted:
            outcome, message = "exempted", exempted
        else:
            outcome = "warned" if warning else "passed"
            message = warning or ""
    if outcome is not None:
        report.user_properties += [("kora_outcome", outcome), ("kora_message", message)]


def outcome_of(report: pytest.TestReport) -> tuple[str, str, str, str] | None:
    """``(target, check ID, outcome, message)`` recorded on ``report``, if any."""
    props = dict(report.user_properties)
    if "kora_outcome" not in props:
        return None
    return (
        str(props["kora_target"]),
        str(props["kora_check"]),
        str(props["kora_outcome"]),
        str(props.get("kora_message", "")),
    )


class Results:
    """The outcome table of a run, filled from test reports."""

    def __init__(
        self, targets: Iterable[Target], exemptions: dict[str, list[Exemption]] | None = None
    ) -> None:
        self.targets = list(targets)
        self.exemptions = exemptions or {}
        self._seen: dict[tuple[str, str], tuple[str, str]] = {}

    def record(self, report: pytest.TestReport) -> None:
        found = outcome_of(report)
        if found is None:
            return
        target, check_id, outcome, message = found
        previous = self._seen.get((target, check_id))
        # A failure in teardown must not be hidden by the call phase having passed.
        if previous is None or previous[0] in {"passed", "warned", "exempted"}:
            self._seen[(target, check_id)] = (outcome, message)

    def outcomes(self, target: Target) -> list[Outcome]:
        """One outcome per catalog check, in catalog order."""
        rows = []
        for check in CATALOG:
            seen = self._seen.get((target.name, check.id))
            if seen is not None:
                rows.append(Outcome(check, seen[0], seen[1]))  # type: ignore[arg-type]
            elif check.scope == "runtime" and target.route != "runtime":
                reason = "runtime check: it certifies a runtime, not a plugin"
                rows.append(Outcome(check, "skipped", reason))
            elif check.scope == "plugin" and target.route == "runtime":
                reason = "plugin check: it certifies a plugin, not a runtime"
                rows.append(Outcome(check, "skipped", reason))
            else:
                rows.append(Outcome(check, "skipped", "not run (deselected or interrupted)"))
        return rows

    def failed_musts(self, target: Target) -> list[str]:
        return [
            o.check.id
            for o in self.outcomes(target)
            if o.outcome == "failed" and o.check.level == "MUST"
        ]

    def verdict(self, target: Target) -> str:
        return "not-conformant" if self.failed_musts(target) else "conformant"

    def verdict_line(self, target: Target) -> str:
        failed = self.failed_musts(target)
        if not failed:
            outcomes = self.outcomes(target)
            notes = []
            warned = [o.check.id for o in outcomes if o.outcome == "warned"]
            exempted = [o.check.id for o in outcomes if o.outcome == "exempted"]
            if warned:
                notes.append(f"warnings: {', '.join(warned)}")
            if exempted:
                notes.append(f"exempted: {', '.join(exempted)}")
            note = f" ({'; '.join(notes)})" if notes else ""
            return f"{target.label}: CONFORMANT{note}"
        plural = "check" if len(failed) == 1 else "checks"
        return (
            f"{target.label}: NOT CONFORMANT — {len(failed)} MUST {plural} failed: "
            f"{', '.join(failed)}"
        )

    def as_json(self, *, kit_version: str, runtime: dict[str, str], seed: int) -> dict[str, Any]:
        """The ``kora-conformance-report/1`` document."""
        targets = [
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
        overall = (
            "conformant" if all(t["verdict"] == "conformant" for t in targets) else "not-conformant"
        )
        return {
            "schema": SCHEMA,
            "contract_level": CONTRACT_LEVEL,
            "verdict": overall,
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

    def table(self, target: Target) -> list[str]:
        """The terminal table for one target."""
        lines = [f"{'check':<10} {'level':<6} {'outcome':<8} reason"]
        for o in self.outcomes(target):
            lines.append(f"{o.check.id:<10} {o.check.level:<6} {o.outcome:<8} {o.message}")
        return lines
