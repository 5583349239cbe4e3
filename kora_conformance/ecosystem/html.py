"""The ecosystem report as one static HTML page: a sortable table, failures expandable.

The page needs nothing but itself (no external stylesheet, script or font), so it opens from
``file://`` or any static host. Clicking a column's header sorts by it (again: the other way);
``#sort=duration`` or ``#sort=-duration`` in the address sorts on opening, so a sorted view can
be linked, and ``#open`` (alone or as ``#sort=verdict&open``) unfolds every row's failures.
Each row's failures sit in a ``<details>`` element: the checks that failed, with what was
expected, what was seen and the fix, or the reason a target was not certified.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from kora_conformance.ecosystem.report import VERDICTS, failures_text, label

__all__ = ["render_html"]

#: Verdicts ordered worst first, as sorting by verdict ranks them.
_RANK = {verdict: rank for rank, verdict in enumerate(VERDICTS)}
_COLORS = {
    "brightgreen": "#2e7d32",
    "red": "#c62828",
    "lightgrey": "#757575",
    "orange": "#ef6c00",
    "critical": "#6a1b9a",
}

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
            cursor: pointer; }
th[aria-sort=ascending] button::after { content: " ▲"; }
th[aria-sort=descending] button::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; border-radius: 3px; color: #fff; padding: 0 .45rem;
         font-size: .8rem; font-weight: 600; white-space: nowrap; }
details ul { margin: .3rem 0 0 1rem; padding: 0; }
details li { margin-bottom: .3rem; }
code { font-size: .85rem; }
/* Installer output and plugin messages carry long paths: wrap them inside the cell. */
td { overflow-wrap: anywhere; }
pre { white-space: pre-wrap; margin: .3rem 0 0; }
"""

# Sorting: by the column's data-key, numerically for numbers, then by plugin name so that
# equal keys keep a stable, meaningful order.
_SCRIPT = """
(function () {
  var table = document.getElementById("results");
  var body = table.tBodies[0];
  function value(row, key) {
    var v = row.dataset[key];
    return key === "plugin" || key === "version" ? v : parseFloat(v);
  }
  function sortBy(key, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, key), y = value(b, key);
      var c = x < y ? -1 : x > y ? 1 : 0;
      if (descending) c = -c;
      return c || (a.dataset.plugin < b.dataset.plugin ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute("aria-sort", th.dataset.key !== key ? "none"
        : descending ? "descending" : "ascending");
    });
    table.dataset.sorted = (descending ? "-" : "") + key;
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.querySelector("button").addEventListener("click", function () {
      sortBy(th.dataset.key, th.getAttribute("aria-sort") === "ascending");
    });
  });
  var wanted = /(?:^#|&)sort=(-?)(\\w+)/.exec(location.hash);
  if (wanted && table.querySelector('th[data-key="' + wanted[2] + '"]')) {
    sortBy(wanted[2], wanted[1] === "-");
  }
  if (/(?:^#|&)open(?:&|$)/.test(location.hash)) {
    Array.prototype.forEach.call(body.querySelectorAll("details"), function (d) { d.open = true; });
  }
})();
"""


def _badge(verdict: str) -> str:
    label, color = VERDICTS[verdict]
    return f'<span class="badge" style="background:{_COLORS[color]}">{label}</span>'


def _check_items(record: Mapping[str, Any]) -> list[str]:
    report = record.get("report") or {}
    items = []
    for target in report.get("targets", []):
        for check in target["checks"]:
            if check["outcome"] != "failed":
                continue
            parts = [f"<b>{escape(check['id'])}</b> {escape(check['level'])} — "]
            parts.append(escape(check["title"]))
            if check["expected"] or check["seen"]:
                parts.append(
                    f"<br>expected {escape(check['expected'])}; seen {escape(check['seen'])}"
                )
            elif check["message"]:
                parts.append(f"<br>{escape(check['message'])}")
            if check["fix"]:
                parts.append(f"<br>fix: {escape(check['fix'])}")
            items.append(f"<li>{''.join(parts)}</li>")
    return items


def _failures(record: Mapping[str, Any]) -> str:
    if record["reason"]:
        summary = escape(failures_text(record, width=80))
        return (
            f"<details><summary>{summary}</summary>"
            f"<pre>{escape(str(record['reason']))}</pre></details>"
        )
    items = _check_items(record)
    if not items:
        return ""
    return (
        f"<details><summary>{escape(failures_text(record))}</summary>"
        f"<ul>{''.join(items)}</ul></details>"
    )


def _row(record: Mapping[str, Any]) -> str:
    verdict = str(record["verdict"])
    plugin, version = label(record), str(record["version"])
    attributes = {
        "data-id": record["id"],
        "data-plugin": plugin,
        "data-version": version,
        "data-verdict": _RANK[verdict],
        "data-failed": len(record["failed"]),
        "data-duration": record["duration"],
    }
    attrs = " ".join(f'{k}="{escape(str(v))}"' for k, v in attributes.items())
    return (
        f"<tr {attrs}><td>{escape(plugin)}<br><code>{escape(str(record['id']))}</code></td>"
        f"<td>{escape(version)}</td><td>{_badge(verdict)}</td>"
        f"<td>{_failures(record)}</td><td class=num>{record['duration']:.1f} s</td></tr>"
    )


def render_html(data: Mapping[str, Any], *, title: str = "Kora conformance: ecosystem") -> str:
    """The page for the ecosystem report ``data``."""
    counts = data["verdicts"]
    summary = ", ".join(
        f"{counts[v]} {VERDICTS[v][0].lower()}" for v in reversed(VERDICTS) if counts[v]
    )
    headers = [
        ("plugin", "Plugin"),
        ("version", "Version"),
        ("verdict", "Verdict"),
        ("failed", "Failed checks"),
        ("duration", "Duration"),
    ]
    head = "".join(
        f'<th data-key="{key}" aria-sort="none"><button type="button">{label}</button></th>'
        for key, label in headers
    )
    rows = "\n".join(_row(r) for r in data["targets"])
    total = len(data["targets"])
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_STYLE}</style></head>\n<body>\n<h1>{escape(title)}</h1>\n"
        f"<p>{total} target{'s' if total != 1 else ''}: {escape(summary or 'none')}.</p>\n"
        f'<table id="results"><thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody></table>\n'
        f"<script>{_SCRIPT}</script>\n</body></html>\n"
    )
