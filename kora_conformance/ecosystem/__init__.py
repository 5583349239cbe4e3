"""Certifying many plugins at once: a corpus in, one report per target, shards, one merged report.

``kora-conformance ecosystem CORPUS`` certifies the targets a corpus file lists (published
packages, pinned repositories, local paths; :mod:`.corpus`), optionally one deterministic share
of them (``--shard K/N``; :mod:`.shard`), each installed into its own environment when it needs
one (:mod:`.install`, :mod:`.run`). ``kora-conformance merge`` joins the reports of shards or
targets into one JSON report, a Markdown table, a static HTML page and a badge per plugin
(:mod:`.report`, :mod:`.html`). The commands themselves are in :mod:`.cli`.
"""

from __future__ import annotations

from kora_conformance.ecosystem.corpus import CorpusError, Entry, load_corpus
from kora_conformance.ecosystem.report import SCHEMA, MergeError, merge
from kora_conformance.ecosystem.shard import parse_shard, split

__all__ = [
    "SCHEMA",
    "CorpusError",
    "Entry",
    "MergeError",
    "load_corpus",
    "merge",
    "parse_shard",
    "split",
]
