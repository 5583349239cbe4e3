"""Collect the docs' examples: every Markdown page here runs as tests (see ``_harness``)."""

from __future__ import annotations

from _harness import page_sybil

pytest_collect_file = page_sybil(("*.md",)).pytest()
