"""CI artifacts beside the JSON report: a Markdown job summary and a shields.io badge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kora_conformance.model._catalog import by_id
from kora_conformance.run._results import Results

__all__ = ["badge", "badge_json", "render_summary", "write_text"]

_ICONS = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "warned": "⚠️ warned",
    "exempted": "🟡 exempted",
    "skipped": "⏭️ skipped",
    "not-run": "⏸️ not run",
}
_VERDICTS = {
    "conformant": "CONFORMANT",
    "not-conformant": "NOT CONFORMANT",
    "needs-host": "NEEDS HOST",
    "incomplete": "INCOMPLETE",
    "nothing-checked": "NOTHING CHECKED",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_summary(results: Results, *, kit_version: str, runtime: dict[str, str]) -> str:
    """A Markdown summary for a CI job page: verdict, one table per target, fixes for failures."""
    document = results.as_json(kit_version=kit_version, runtime=runtime, seed=0)
    verdict = _VERDICTS[document["verdict"]]
    lines = [
        f"# Kora conformance: {verdict}",
        "",
        f"Contract level {document['contract_level']}, kit {kit_version}, runtime "
        f"{runtime['name']} {runtime['version']}.",
        "",
    ]
    for target in results.targets:
        lines += [f"## {results.verdict_line(target)}", ""]
        if (basis := results.basis(target)) is not None:
            lines += [f"It {basis.describe()}.", ""]
        lines += ["| Check | Level | Outcome | Detail |", "| --- | --- | --- | --- |"]
        failures = []
        for outcome in results.outcomes(target):
            check = outcome.check
            lines.append(
                f"| {check.id} | {check.level} | {_ICONS[outcome.outcome]} | "
                f"{_cell(outcome.message)} |"
            )
            if outcome.outcome in {"failed", "warned"}:
                failures.append(outcome)
        if failures:
            lines += ["", "### How to fix", ""]
            for outcome in failures:
                check = by_id(outcome.check.id)
                lines.append(f"- **{check.id}** ({check.title}): {check.fix} More: `{check.docs}`.")
        lines.append("")
    return "\n".join(lines)


def badge(results: Results) -> dict[str, Any]:
    """A shields.io endpoint document for the run as a whole."""
    overall = results.overall()
    warned = any(
        o.outcome in {"warned", "exempted"} for t in results.targets for o in results.outcomes(t)
    )
    if overall == "not-conformant":
        message, color = "not conformant L1", "red"
    elif overall == "needs-host":
        # Blue, not red: nothing is wrong with the plugin; the environment lacks the host.
        message, color = "needs host L1", "blue"
    elif overall == "incomplete":
        message, color = "incomplete L1", "lightgrey"
    elif overall == "nothing-checked":
        message, color = "nothing checked L1", "lightgrey"
    elif warned:
        message, color = "conformant L1 (warnings)", "yellow"
    else:
        message, color = "conformant L1", "brightgreen"
    return {"schemaVersion": 1, "label": "kora conformance", "message": message, "color": color}


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def badge_json(results: Results) -> str:
    return json.dumps(badge(results), indent=2) + "\n"
