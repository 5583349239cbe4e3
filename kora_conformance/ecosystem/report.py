"""The ecosystem report (``kora-conformance-ecosystem/1``): one record per corpus target.

Per-target, per-shard and merged reports share the format (``ecosystem-report.schema.json``
beside this module), so any of them merges with any other. A record carries the target's
verdict, its failed checks and its duration, and, when it was certified, the whole
``kora-conformance-report/2`` document of its run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from kora_conformance._errors import KitError
from kora_conformance.ecosystem.corpus import Entry, slug

__all__ = [
    "SCHEMA",
    "VERDICTS",
    "MergeError",
    "badge",
    "certified_record",
    "document",
    "failed_record",
    "label",
    "load_report",
    "markdown",
    "merge",
    "report_schema",
    "write_json",
]

SCHEMA = "kora-conformance-ecosystem/1"

EcoVerdict = Literal[
    "conformant",
    "not-conformant",
    "needs-host",
    "incomplete",
    "nothing-checked",
    "uninstallable",
    "error",
]
#: Every verdict, worst first; each one's label and badge colour.
VERDICTS: dict[str, tuple[str, str]] = {
    "error": ("ERROR", "critical"),
    "uninstallable": ("UNINSTALLABLE", "orange"),
    "not-conformant": ("NOT CONFORMANT", "red"),
    "needs-host": ("NEEDS HOST", "blue"),
    "incomplete": ("INCOMPLETE", "lightgrey"),
    "nothing-checked": ("NOTHING CHECKED", "lightgrey"),
    "conformant": ("CONFORMANT", "brightgreen"),
}
_ICONS = {
    "error": "💥",
    "uninstallable": "📦",
    "not-conformant": "❌",
    "needs-host": "🔌",
    "incomplete": "⏸️",
    "nothing-checked": "🔍",
    "conformant": "✅",
}


class MergeError(KitError, ValueError):
    """Reports cannot be merged: one is unreadable or not an ecosystem report, or two disagree
    about the same target."""


@cache
def report_schema() -> dict[str, Any]:
    """The ecosystem report's JSON Schema."""
    text = resources.files(__package__).joinpath("ecosystem-report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _base(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "source": entry.source(), "name": entry.name, "version": entry.version}


def failed_record(
    entry: Entry, verdict: EcoVerdict, reason: str, *, install: float = 0.0
) -> dict[str, Any]:
    """The record of a target that could not be certified (``uninstallable`` or ``error``)."""
    return {
        **_base(entry),
        "verdict": verdict,
        "reason": reason,
        "failed": [],
        "duration": round(install, 3),
        "durations": {"install": round(install, 3), "certify": 0.0},
        "report": None,
    }


def certified_record(
    entry: Entry, report: Mapping[str, Any], *, install: float = 0.0, certify: float | None = None
) -> dict[str, Any]:
    """The record of a target certified in ``report`` (a ``kora-conformance-report/2``
    document holding its targets only).

    :param certify: the certification's seconds; default: the sum of its checks' durations
        (what the target cost a run it shared with others).
    """
    targets = list(report["targets"])
    if certify is None:
        certify = sum(c["duration"] for t in targets for c in t["checks"])
    base = _base(entry)
    if targets:
        base["name"] = ", ".join(t["name"] for t in targets)
        base["version"] = ", ".join(dict.fromkeys(t["version"] for t in targets if t["version"]))
    failed = [c["id"] for t in targets for c in t["checks"] if c["outcome"] == "failed"]
    return {
        **base,
        "verdict": report["verdict"],
        "reason": "",
        "failed": list(dict.fromkeys(failed)),
        "duration": round(install + certify, 3),
        "durations": {"install": round(install, 3), "certify": round(certify, 3)},
        "report": dict(report),
    }


def document(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ecosystem report of ``records``, ordered by target ID."""
    ordered = sorted(records, key=lambda r: str(r["id"]))
    counts = Counter(str(r["verdict"]) for r in ordered)
    return {
        "schema": SCHEMA,
        "verdicts": {v: counts.get(v, 0) for v in VERDICTS},
        "targets": ordered,
    }


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_report(path: Path) -> dict[str, Any]:
    """Read and validate one ecosystem report.

    :raises MergeError: the file is unreadable, not JSON, or not a valid ecosystem report.
    """
    import jsonschema  # noqa: PLC0415 - only reading reports back needs it

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"{path} cannot be read as JSON ({exc})"
        raise MergeError(msg) from exc
    if isinstance(data, dict) and data.get("schema") != SCHEMA:
        hint = (
            "it is a single certification's report; merge the reports kora-conformance "
            "ecosystem writes"
            if data.get("schema", "").startswith("kora-conformance-report/")
            else f"expected schema {SCHEMA!r}"
        )
        msg = f"{path} is not an ecosystem report ({hint})"
        raise MergeError(msg)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(report_schema()).iter_errors(data)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        msg = f"{path} breaks the ecosystem report schema at {where}: {error.message}"
        raise MergeError(msg)
    result: dict[str, Any] = data
    return result


def merge(paths: Sequence[Path]) -> dict[str, Any]:
    """One report of the targets of every report in ``paths``.

    A target in two reports is taken once if its records are identical, and is an error if
    they are not (two runs disagree; merge one of them).

    :raises MergeError: a report cannot be read, or two disagree about a target.
    """
    records: dict[str, tuple[Path, Mapping[str, Any]]] = {}
    for path in paths:
        for record in load_report(path)["targets"]:
            key = str(record["id"])
            if key in records and records[key][1] != record:
                msg = (
                    f"target {key!r} is in {records[key][0]} and in {path} with different "
                    "results; merge the reports of one run only (or drop one of the two)"
                )
                raise MergeError(msg)
            records.setdefault(key, (path, record))
    return document(record for _, record in records.values())


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def label(record: Mapping[str, Any]) -> str:
    """The plugin's name, with its package's when they differ (two packages may register
    plugins of the same name)."""
    name = str(record["name"])
    source = record["source"]
    if source["kind"] == "package":
        package = str(source["package"]).split("==", 1)[0].split("[", 1)[0]
        if package != name:
            return f"{name} ({package})"
    return name


def failures_text(record: Mapping[str, Any], width: int = 120) -> str:
    """The failed checks of a record, or why it has none (its reason, cut at ``width``)."""
    if record["failed"]:
        return ", ".join(record["failed"])
    reason = " ".join(str(record["reason"]).split())
    return reason if len(reason) <= width else reason[: width - 1].rstrip() + "…"


def markdown(data: Mapping[str, Any]) -> str:
    """A Markdown summary for a CI job page: the counts, and one row per target."""
    counts = data["verdicts"]
    total = len(data["targets"])
    parts = [f"{counts[v]} {VERDICTS[v][0].lower()}" for v in reversed(VERDICTS) if counts[v]]
    lines = [
        "# Kora conformance: ecosystem",
        "",
        f"{total} target{'s' if total != 1 else ''}: {', '.join(parts) or 'none'}.",
        "",
        "| Plugin | Version | Verdict | Failed checks | Duration |",
        "| --- | --- | --- | --- | --- |",
    ]
    for record in data["targets"]:
        verdict = str(record["verdict"])
        lines.append(
            f"| {_cell(label(record))} | {_cell(str(record['version']))} | "
            f"{_ICONS[verdict]} {VERDICTS[verdict][0]} | {_cell(failures_text(record))} | "
            f"{record['duration']:.1f} s |"
        )
    return "\n".join(lines) + "\n"


def badge(record: Mapping[str, Any]) -> dict[str, Any]:
    """A shields.io endpoint document for one target."""
    label, color = VERDICTS[str(record["verdict"])]
    return {
        "schemaVersion": 1,
        "label": f"kora {record['name']}",
        "message": label.lower(),
        "color": color,
    }


def write_badges(directory: Path, data: Mapping[str, Any]) -> list[Path]:
    """One badge file per target, named by :func:`~.corpus.slug` of its ID."""
    written = []
    for record in data["targets"]:
        path = directory / f"{slug(str(record['id']))}.json"
        write_json(path, badge(record))
        written.append(path)
    return written
