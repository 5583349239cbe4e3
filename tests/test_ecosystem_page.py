"""The merged report's HTML page in a real headless browser (Chromium): its script sorts the
table, failures are expandable, and it renders. Skipped when no Chromium is installed
(``apt-get install chromium`` on Debian; ``KORA_CHROMIUM`` names another binary)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kora_conformance.ecosystem.corpus import Entry
from kora_conformance.ecosystem.html import render_html
from kora_conformance.ecosystem.report import certified_record, document, failed_record


def _chromium() -> str | None:
    for name in (os.environ.get("KORA_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium, or KORA_CHROMIUM)"
)


def _report(name: str, seconds: float, *failed: str) -> dict[str, object]:
    checks = [
        {
            "id": check_id,
            "level": "MUST",
            "title": f"title of {check_id}",
            "rule": "a rule",
            "outcome": "failed" if check_id in failed else "passed",
            "message": "",
            "expected": "an IdentitySpec" if check_id in failed else "",
            "seen": "a str" if check_id in failed else "",
            "fix": "return IdentitySpec(...)" if check_id in failed else "",
            "duration": seconds / 2,
        }
        for check_id in ("KC-PL-001", "KC-ID-001")
    ]
    verdict = "not-conformant" if failed else "conformant"
    return {
        "schema": "kora-conformance-report/2",
        "verdict": verdict,
        "targets": [{"name": name, "version": "1.0", "verdict": verdict, "checks": checks}],
    }


def _page(tmp_path: Path) -> Path:
    def entry(name: str) -> Entry:
        return Entry(f"plugins/{name}", "path", path=Path(f"/p/{name}"))

    data = document(
        [
            certified_record(entry("bravo"), _report("bravo", 3.0)),
            certified_record(entry("alpha"), _report("alpha", 9.0, "KC-ID-001")),
            certified_record(entry("delta"), _report("delta", 1.0)),
            failed_record(
                Entry("charlie==2.0", "package", package="charlie==2.0", entry_point="c"),
                "uninstallable",
                "ERROR: No matching distribution found for charlie==2.0",
                install=5.0,
            ),
        ]
    )
    page = tmp_path / "site" / "index.html"
    page.parent.mkdir()
    page.write_text(render_html(data), encoding="utf-8")
    return page


def _chrome(tmp_path: Path, url: str, *options: str) -> str:
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *options,
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _order(dom: str) -> list[str]:
    return re.findall(r'<tr data-id="[^"]*" data-plugin="([^"]*)"', dom)


def test_the_page_sorts_in_the_browser(tmp_path: Path) -> None:
    page = _page(tmp_path)

    as_written = _chrome(tmp_path, page.as_uri(), "--dump-dom")
    by_duration = _chrome(tmp_path, page.as_uri() + "#sort=-duration", "--dump-dom")
    by_plugin = _chrome(tmp_path, page.as_uri() + "#sort=plugin", "--dump-dom")
    by_verdict = _chrome(tmp_path, page.as_uri() + "#sort=verdict&open", "--dump-dom")

    # Reports order targets by ID; the page's script reorders them, and marks the header.
    assert _order(as_written) == ["charlie", "alpha", "bravo", "delta"]
    assert _order(by_duration) == ["alpha", "charlie", "bravo", "delta"]
    assert 'data-sorted="-duration"' in by_duration
    assert re.search(r'<th data-key="duration" aria-sort="descending">', by_duration)
    assert _order(by_plugin) == ["alpha", "bravo", "charlie", "delta"]
    # Worst first: uninstallable, then not conformant, then the conformant by name.
    assert _order(by_verdict) == ["charlie", "alpha", "bravo", "delta"]
    # The failures of the failing rows, collapsed until opened; #open unfolds them all.
    assert by_duration.count("<details>") == 2
    assert "<summary>KC-ID-001</summary>" in by_duration
    assert by_verdict.count('<details open="">') == 2


def test_the_page_renders(tmp_path: Path) -> None:
    page = _page(tmp_path)
    shot = tmp_path / "page.png"

    _chrome(tmp_path, page.as_uri(), f"--screenshot={shot}", "--window-size=1100,500")

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5_000  # a page with a table, not a blank one
