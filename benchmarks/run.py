"""Benchmarks: each figure is a ratio against a baseline measured in the same run.

``python benchmarks/run.py [--json PATH] [--only NAME ...] [--quick]`` prints a table (figure,
baseline, ours, ratio, target, met?). Absolute times on shared machines mean little; a ratio
against a floor measured alternately with it, in the same session, does. The figures measure what
users wait for: a certification, one more plugin in a corpus, a corpus split over shards, the
self-test, the project's test command, daemon scheduling and interval independence; the
identity dispatch and discovery growth are kept as information (target ``info``).
:mod:`bench_subprocess`, :mod:`bench_in_process` and :mod:`bench_ecosystem` measure them,
:mod:`bench_plugins` writes the plugins they measure and :mod:`bench_core` holds what they share.
``published_corpus.py`` is the by-hand run of published plugins (it needs the network).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_ecosystem
import bench_in_process
import bench_subprocess
from bench_core import FULL, QUICK, Figure, Scale

__all__ = ["FIGURES", "Figure", "format_table", "main", "measure"]

FIGURES: dict[str, Callable[[Scale], list[Figure]]] = {
    "certification": bench_subprocess.certification,
    "dispatch": bench_in_process.identity_dispatch,
    "discovery": bench_subprocess.discovery,
    "scheduling": bench_in_process.scheduling,
    "intervals": bench_in_process.interval_independence,
    "marginal": bench_ecosystem.marginal_cost,
    "shards": bench_ecosystem.sharding,
    "selftest": bench_ecosystem.selftest,
    "suite": bench_ecosystem.suite_command,
}


def _amount(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:.3g}{unit}"
    for scale, suffix in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value / 1e-9:.3g}ns"


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "NO"


def format_table(figures: Sequence[Figure]) -> list[str]:
    """The table's lines: figure, baseline, ours, ratio, target, met?"""
    width = max([len("figure"), *(len(f.name) for f in figures)])
    lines = [f"{'figure':<{width}} {'baseline':>9} {'ours':>9} {'ratio':>6} {'target':>10}  met"]
    for f in figures:
        lines.append(
            f"{f.name:<{width}} {_amount(f.baseline, f.unit):>9} {_amount(f.ours, f.unit):>9} "
            f"{f.ratio:>6.2f} {f.target:>10}  {_met(f.met)}"
        )
    return lines


def measure(names: Sequence[str], scale: Scale) -> tuple[list[Figure], list[str]]:
    """Run the named figures; their rows, and the errors of those that could not be measured."""
    figures: list[Figure] = []
    errors: list[str] = []
    for name in names:
        started = time.perf_counter()
        try:
            rows = FIGURES[name](scale)
        except Exception:  # noqa: BLE001 - one broken figure must not lose the others
            errors.append(f"{name}: {traceback.format_exc()}")
            continue
        figures.extend(rows)
        print(f"[{name}: {time.perf_counter() - started:.1f} s]", file=sys.stderr, flush=True)
    return figures, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the table as JSON to PATH")
    parser.add_argument("--only", action="append", choices=list(FIGURES), help="run only these")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    names = [name for name in FIGURES if not args.only or name in args.only]
    figures, errors = measure(names, QUICK if args.quick else FULL)
    for line in format_table(figures):
        print(line)
    for f in figures:
        if f.note:
            print(f"  {f.name}: {f.note}")
    print(f"total: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(f) for f in figures], indent=2) + "\n")
    for error in errors:
        print(f"could not measure {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
