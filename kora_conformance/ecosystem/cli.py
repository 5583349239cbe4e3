"""The ``ecosystem`` and ``merge`` subcommands of ``kora-conformance``.

``ecosystem`` exits 0 once every target of its share has a result, whatever the verdicts (a
catalog's job is to report them; gate on the merged report if you want a red build), and 4 when
the corpus or an option is wrong. ``merge`` exits 0, or 4 when a report cannot be read or two
reports disagree about a target.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["COMMANDS", "add_commands", "run"]

COMMANDS = ("ecosystem", "merge")


def add_commands(commands: Any) -> None:
    """Add ``ecosystem`` and ``merge`` to the ``kora-conformance`` subparsers ``commands``."""
    eco = commands.add_parser(
        "ecosystem",
        help="certify every target of a corpus file (or one shard of it)",
        description="Certify each target of CORPUS (a TOML file: see docs/ecosystem.md) in an "
        "environment of its own, writing OUT/targets/*.json (one report per target) and "
        "OUT/report.json (this share's report).",
    )
    eco.add_argument("corpus", type=Path, metavar="CORPUS")
    eco.add_argument("--shard", default="1/1", metavar="K/N", help="certify share K of N")
    eco.add_argument(
        "--durations",
        action="append",
        default=[],
        type=Path,
        metavar="REPORT",
        help="an earlier ecosystem report whose durations weigh the shard split",
    )
    eco.add_argument("--out", type=Path, default=Path("kora-ecosystem"), metavar="DIR")
    eco.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="parallel workers (default: the machine's cores)",
    )
    eco.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    eco.add_argument("--max-examples", type=int, metavar="N")
    eco.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto")
    eco.add_argument("--kit", metavar="REQUIREMENT", help="how environments get the kit")
    eco.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS")
    eco.add_argument("--keep", action="store_true", help="keep environments and checkouts")
    eco.add_argument(
        "--list", action="store_true", help="print this shard's targets and stop (no install)"
    )
    merge = commands.add_parser(
        "merge",
        help="merge ecosystem reports into one: JSON, Markdown, HTML, badges",
        description="Merge the reports of targets or shards. With no output option, print "
        "the Markdown table.",
    )
    merge.add_argument("reports", nargs="+", type=Path, metavar="REPORT")
    merge.add_argument("--json", type=Path, metavar="PATH")
    merge.add_argument("--markdown", type=Path, metavar="PATH")
    merge.add_argument("--html", type=Path, metavar="PATH")
    merge.add_argument("--badges", type=Path, metavar="DIR", help="a badge JSON per plugin")


def _error(message: str) -> int:
    print(f"kora-conformance: {message}", file=sys.stderr)
    return 4


def _ecosystem(options: argparse.Namespace) -> int:
    from kora_conformance.ecosystem.corpus import CorpusError, load_corpus  # noqa: PLC0415
    from kora_conformance.ecosystem.report import VERDICTS, MergeError, load_report  # noqa: PLC0415
    from kora_conformance.ecosystem.run import RunOptions, certify_corpus  # noqa: PLC0415
    from kora_conformance.ecosystem.shard import costs_from, parse_shard, split  # noqa: PLC0415

    if options.jobs < 1:
        return _error("--jobs must be at least 1")
    try:
        number, count = parse_shard(options.shard)
        entries = load_corpus(options.corpus)
        costs = costs_from([load_report(p) for p in options.durations])
    except (CorpusError, MergeError) as exc:
        return _error(str(exc))
    share = split(entries, count, costs)[number - 1]
    print(f"shard {number}/{count}: {len(share)} of {len(entries)} targets of {options.corpus}")
    if options.list:
        for entry in share:
            cost = f"{costs[entry.id]:.1f} s" if entry.id in costs else "-"
            print(f"  {entry.id}  ({entry.kind}; expected {cost})")
        return 0
    total = len(share)
    finished = 0

    def progress(record: dict[str, Any]) -> None:
        nonlocal finished
        finished += 1
        label = f"{record['name']} {record['version']}".strip()
        verdict = VERDICTS[record["verdict"]][0]
        print(f"[{finished}/{total}] {label}: {verdict} ({record['duration']:.1f} s)", flush=True)

    run_options = RunOptions(
        out=options.out,
        jobs=options.jobs,
        seed=options.seed,
        max_examples=options.max_examples,
        installer=options.installer,
        kit=options.kit,
        timeout=options.timeout,
        keep=options.keep,
    )
    certify_corpus(share, run_options, progress=progress)
    print(f"report written to {options.out / 'report.json'}")
    return 0


def _merge(options: argparse.Namespace) -> int:
    from kora_conformance.ecosystem.html import render_html  # noqa: PLC0415
    from kora_conformance.ecosystem.report import (  # noqa: PLC0415
        MergeError,
        markdown,
        merge,
        write_badges,
        write_json,
    )

    try:
        merged = merge(options.reports)
    except MergeError as exc:
        return _error(str(exc))
    outputs = (options.json, options.markdown, options.html, options.badges)
    if options.json:
        write_json(options.json, merged)
    for path, text in ((options.markdown, markdown(merged)), (options.html, render_html(merged))):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if options.badges:
        write_badges(options.badges, merged)
    if not any(outputs):
        print(markdown(merged), end="")
    else:
        print(f"merged {len(merged['targets'])} targets from {len(options.reports)} reports")
    return 0


def run(options: argparse.Namespace) -> int:
    """Run the ``ecosystem`` or ``merge`` command parsed into ``options``."""
    return _ecosystem(options) if options.command == "ecosystem" else _merge(options)
