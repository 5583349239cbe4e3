"""The check catalog: stable IDs, complete entries, and docs that say the same as the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kora_conformance.model._catalog import CATALOG, by_id
from kora_conformance.model._docs import render_checks
from kora_conformance.model._rationale import RATIONALE

DOCS = Path(__file__).resolve().parents[1] / "docs" / "checks.md"

#: The contract's initial catalog: these IDs and levels are fixed forever.
CONTRACT_IDS = {
    **{f"KC-PL-00{n}": "MUST" for n in (1, 2, 3, 5, 6)},
    "KC-PL-004": "SHOULD",
    **{f"KC-ID-00{n}": "MUST" for n in range(1, 7)},
    "KC-ID-007": "SHOULD",
    **{f"KC-DM-00{n}": "MUST" for n in range(1, 7)},
    "KC-DM-007": "SHOULD",
    **{f"KC-RT-00{n}": "MUST" for n in range(1, 9)},
    "KC-RT-009": "SHOULD",
    "KC-RT-010": "SHOULD",
}


def test_contract_ids_and_levels_are_kept() -> None:
    for check_id, level in CONTRACT_IDS.items():
        assert by_id(check_id).level == level


def test_ids_are_unique_well_formed_and_complete() -> None:
    ids = [c.id for c in CATALOG]
    assert len(ids) == len(set(ids))
    for check in CATALOG:
        assert re.fullmatch(r"KC-(PL|ID|DM|RT)-\d{3}", check.id)
        assert check.rule.strip()
        assert check.fix.strip()
        assert check.title.strip()
        assert (check.scope == "runtime") == (check.area == "RT")


def test_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="KC-PL-001"):
        by_id("KC-XX-999")


def test_docs_checks_page_matches_the_catalog() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_checks(), (
        "docs/checks.md is stale: run python -m kora_conformance.catalog > docs/checks.md"
    )


def test_every_check_has_an_anchor_in_the_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for check in CATALOG:
        assert f'<a id="{check.anchor}"></a>' in text
        # Offline first: an installed kit has no docs/ folder to point into.
        assert check.docs.startswith(f"kora-conformance explain {check.id}")


def test_every_check_says_why_it_exists() -> None:
    assert set(RATIONALE) == {c.id for c in CATALOG}
    assert all(len(why) > 40 for why in RATIONALE.values())


def test_contract_catalog_table_matches_the_code() -> None:
    contract = (DOCS.parent / "contract.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (KC-[A-Z]{2}-\d{3}) \| (MUST|SHOULD) \| (plugin|runtime) \|", contract, re.M
    )
    assert rows, "docs/contract.md has no catalog table"
    assert [(c.id, c.level, c.scope) for c in CATALOG[: len(rows)]] == rows
