"""Findings: what one check run reported, carried as data in its test report.

A finding travels in the test report's ``user_properties`` (one ``kora_*`` property per field),
so it survives pytest-xdist's trip from worker to controller, where :func:`outcome_of` reads it
back; the results never parse rendered text.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from kora_conformance._errors import CheckFailed

__all__ = ["Finding", "OutcomeName", "annotate_report", "outcome_of"]

OutcomeName = Literal["passed", "failed", "warned", "exempted", "skipped", "not-run"]
_FIELDS = ("outcome", "message", "expected", "seen", "detail", "duration")


@dataclasses.dataclass(frozen=True)
class Finding:
    """What one check run reported, as data: the item builds it, the results keep it."""

    outcome: OutcomeName
    message: str = ""
    expected: str = ""
    seen: str = ""
    detail: str = ""
    duration: float = 0.0

    def properties(self) -> list[tuple[str, object]]:
        """This finding as ``user_properties`` entries (empty fields left out)."""
        props: list[tuple[str, object]] = []
        for field in _FIELDS:
            value = getattr(self, field)
            if value:
                props.append((f"kora_{field}", f"{value:.6f}" if field == "duration" else value))
        return props


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def annotate_report(
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    *,
    warning: CheckFailed | None = None,
    exempted: tuple[str, CheckFailed] | None = None,
    elapsed: float | None = None,
    note: str = "",
) -> None:
    """Record the kit's finding for ``report`` in its ``user_properties``.

    :param warning: the failure of a SHOULD check that the gate turned into a warning.
    :param exempted: the exemption's reason and the failure it covers.
    :param elapsed: the seconds the check took in its own process (else the item's duration).
    :param note: what the check, passing, said it did not judge: a passed finding's message.
    """
    duration = report.duration if elapsed is None else elapsed
    props = dict(report.user_properties)
    if "kora_check" not in props:
        return
    finding: Finding | None = None
    error = call.excinfo.value if call.excinfo is not None else None
    if report.skipped:
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        finding = Finding("skipped", message.removeprefix("Skipped: "))
    elif report.failed:
        if isinstance(error, CheckFailed):
            finding = Finding(
                "failed", error.seen, error.expected, error.seen, error.detail, duration
            )
        else:
            message = _first_line(str(report.longrepr))
            if report.when != "call":
                message = f"error during {report.when}: {message}"
            finding = Finding("failed", message, duration=duration)
    elif report.when == "call":
        if exempted is not None:
            reason, failure = exempted
            finding = Finding(
                "exempted", reason, failure.expected, failure.seen, failure.detail, duration
            )
        elif warning is not None:
            message = f"{warning.expected} expected; {warning.seen} seen"
            finding = Finding(
                "warned", message, warning.expected, warning.seen, warning.detail, duration
            )
        else:
            finding = Finding("passed", note, duration=duration)
    if finding is not None:
        report.user_properties += finding.properties()


def outcome_of(report: pytest.TestReport) -> tuple[str, str, Finding] | None:
    """``(target, check ID, finding)`` recorded on ``report``, if any."""
    props = dict(report.user_properties)
    if "kora_outcome" not in props:
        return None
    finding = Finding(
        outcome=props["kora_outcome"],  # type: ignore[arg-type]
        message=str(props.get("kora_message", "")),
        expected=str(props.get("kora_expected", "")),
        seen=str(props.get("kora_seen", "")),
        detail=str(props.get("kora_detail", "")),
        duration=float(props.get("kora_duration", 0.0)),  # type: ignore[arg-type]
    )
    return str(props["kora_target"]), str(props["kora_check"]), finding
