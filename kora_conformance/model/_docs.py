"""``docs/checks.md``, rendered from the catalog so the two can never disagree.

Regenerate with ``python -m kora_conformance.catalog > docs/checks.md``; a test compares them.
"""

from __future__ import annotations

from kora_conformance.model._catalog import CATALOG

__all__ = ["render_checks"]

_AREAS = {
    "PL": "Plugin packaging and loading",
    "ID": "Identity",
    "DM": "Background daemons and listeners",
    "RT": "Runtime (certifies a runtime, with the kit's probe plugins)",
}


def render_checks() -> str:
    """The Markdown catalog: one section per area, one entry per check, with stable anchors."""
    lines = [
        "# The check catalog",
        "",
        "Every check the kit runs, generated from the kit's own catalog "
        "(`kora_conformance/_catalog.py`); a test keeps this page identical to it. IDs are stable "
        "and never reused. A MUST failure makes the target NOT CONFORMANT; a SHOULD failure is a "
        "warning unless `--kora-gate all` is given. Failure messages link to the anchors below.",
        "",
        "| ID | Level | Applies to | Check |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| [{c.id}](#{c.anchor}) | {c.level} | {c.scope} | {c.title} |" for c in CATALOG]
    for area, heading in _AREAS.items():
        lines += ["", f"## {heading}"]
        for check in (c for c in CATALOG if c.area == area):
            lines += [
                "",
                f'<a id="{check.anchor}"></a>',
                f"### {check.id}: {check.title}",
                "",
                f"**{check.level}**, applies to a {check.scope}.",
                "",
                f"Rule: {check.rule}",
                "",
                f"How to fix: {check.fix}",
            ]
    return "\n".join(lines) + "\n"
