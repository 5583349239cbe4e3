"""Benchmarks: each figure is a ratio against a baseline measured in the same run.

``python benchmarks/run.py [--json PATH] [--only NAME ...] [--quick]`` prints a table (figure,
baseline, ours, ratio, target, met?). Absolute times on shared machines mean little; a ratio
against a floor measured alternately with it, in the same session, does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured figure: ``ratio = ours / baseline`` (or a custom ratio), and its target."""

    name: str
    baseline: float
    ours: float
    ratio: float
    target: str
    met: bool
    unit: str = "s"
    note: str = ""


def _median_alternating(runs: int, *commands: Callable[[], float]) -> list[float]:
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for i, command in enumerate(commands):
            samples[i].append(command())
    return [statistics.median(s) for s in samples]


def _timed_subprocess(args: list[str], cwd: Path) -> Callable[[], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}

    def run() -> float:
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            msg = f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
            raise RuntimeError(msg)
        return elapsed

    return run


def certification(quick: bool) -> list[Figure]:
    """Certifying Marvin over the floor: pytest start-up plus importing the anthropic SDK."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_floor.py").write_text("import anthropic\n\n\ndef test_floor():\n    pass\n")
        pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        floor = _timed_subprocess([*pytest_cmd, "test_floor.py"], work)
        certify = _timed_subprocess(
            [*pytest_cmd, "--kora-conformance", "--kora-plugin", str(REPO / "plugins" / "marvin")],
            work,
        )
        floor()  # warm the file system cache and the bytecode of both commands once
        certify()
        base, ours = _median_alternating(3 if quick else 5, floor, certify)
    ratio = ours / base
    return [
        Figure("certify marvin / pytest+anthropic floor", base, ours, ratio, "<= 1.3", ratio <= 1.3)
    ]


FIGURES: dict[str, Callable[[bool], list[Figure]]] = {"certification": certification}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the table as JSON to PATH")
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), help="run only these")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for name, measure in FIGURES.items():
        if args.only and name not in args.only:
            continue
        figures.extend(measure(args.quick))
    header = f"{'figure':<48} {'baseline':>10} {'ours':>10} {'ratio':>7} {'target':>8}  met"
    print(header)
    for f in figures:
        print(
            f"{f.name:<48} {f.baseline:>9.3f}{f.unit} {f.ours:>9.3f}{f.unit} {f.ratio:>7.2f} "
            f"{f.target:>8}  {'yes' if f.met else 'NO'}"
        )
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(f) for f in figures], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
