"""By hand, not in the test command: certify a few published plugins with ``kora-conformance
ecosystem`` and merge the result, the way a catalog's CI would.

``python benchmarks/published_corpus.py [--tsv PATH] [--shards N] [--out DIR] [--local]
[--unsharded] NAME ...`` writes a corpus of the named packages (each at the version and entry
point ``published.tsv`` gives; ``--local`` adds the project's own plugins), certifies it in
``--shards`` processes at once (``--shard K/N`` each), merges their reports and prints the
Markdown table; ``--unsharded`` also certifies it in one run and says whether the merged report
equals that run's, timings apart. Installs come from the package index, so this needs the network;
every command runs with ``HOME`` and ``HERMES_HOME`` in a temporary directory and
``HERMES_DISABLE_LAZY_INSTALLS=1``, as some of these plugins install packages or write under
``~`` when imported.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_TSV = Path(__file__).resolve().parents[2] / "shared" / "ecosystem" / "published.tsv"
#: A spread of what the catalog holds: conformant, real defects, an install failure, a crash.
DEFAULT_NAMES = (
    "acp-hermes",
    "hermes-acp",
    "agentsfence",
    "opik-hermes",
    "a2a-dm-hermes",
    "agentvault-hermes",
    "hermes-intaris",
    "canon-hermes-plugin",
    "hermes-semantic-memory",
)


REPO = Path(__file__).resolve().parents[1]
LOCAL = ("marvin", "kora", "listener_example")


def without_timings(value: object) -> object:
    """``value`` (a report) without its durations."""
    if isinstance(value, dict):
        return {
            k: without_timings(v) for k, v in value.items() if k not in {"duration", "durations"}
        }
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def corpus_text(tsv: Path, names: list[str], *, local: bool = False) -> str:
    """A corpus (TOML) of ``names`` at the versions and entry points ``tsv`` lists, and with
    ``local`` the project's own plugins."""
    with tsv.open(encoding="utf-8") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle, delimiter="\t")}
    missing = [n for n in names if n not in rows]
    if missing:
        msg = f"{tsv} has no row for {', '.join(missing)}"
        raise SystemExit(msg)
    lines = []
    if local:
        for plugin in LOCAL:
            lines += ["[[target]]", f"path = {str(REPO / 'plugins' / plugin)!r}", ""]
    for name in names:
        row = rows[name]
        lines += [
            "[[target]]",
            f'package = "{row["name"]}=={row["version"]}"',
            f'entry_point = "{row["entry_point"]}"',
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(DEFAULT_NAMES))
    parser.add_argument("--tsv", type=Path, default=DEFAULT_TSV)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="workers per shard")
    parser.add_argument("--installer", default="auto")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="kora-pub-")))
    parser.add_argument("--local", action="store_true", help="add the project's own plugins")
    parser.add_argument("--unsharded", action="store_true", help="compare with one run")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus.toml"
    corpus.write_text(corpus_text(args.tsv, args.names, local=args.local), encoding="utf-8")
    home = out / "home"
    (home / "hermes").mkdir(parents=True, exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "HOME": str(home),
        "HERMES_HOME": str(home / "hermes"),
        "HERMES_DISABLE_LAZY_INSTALLS": "1",
    }
    command = [sys.executable, "-m", "kora_conformance"]
    started = time.perf_counter()
    shards = [
        subprocess.Popen(
            [
                *command,
                "ecosystem",
                str(corpus),
                "--shard",
                f"{k}/{args.shards}",
                "--out",
                str(out / f"shard{k}"),
                "--jobs",
                str(args.jobs),
                "--installer",
                args.installer,
            ],
            env=env,
        )
        for k in range(1, args.shards + 1)
    ]
    statuses = [p.wait() for p in shards]
    elapsed = time.perf_counter() - started
    reports = [str(out / f"shard{k}" / "report.json") for k in range(1, args.shards + 1)]
    merged = subprocess.run(
        [
            *command,
            "merge",
            *reports,
            "--json",
            str(out / "merged.json"),
            "--markdown",
            str(out / "summary.md"),
            "--html",
            str(out / "site" / "index.html"),
            "--badges",
            str(out / "site" / "badges"),
        ],
        env=env,
        check=False,
    )
    print((out / "summary.md").read_text(encoding="utf-8") if merged.returncode == 0 else "")
    count = len(args.names) + (len(LOCAL) if args.local else 0)
    print(f"{count} targets in {args.shards} shards: {elapsed:.0f} s wall; out: {out}")
    if args.unsharded:
        started = time.perf_counter()
        whole = subprocess.run(
            [
                *command,
                "ecosystem",
                str(corpus),
                "--out",
                str(out / "whole"),
                "--jobs",
                str(args.jobs),
                "--installer",
                args.installer,
            ],
            env=env,
            check=False,
        )
        print(f"unsharded: {time.perf_counter() - started:.0f} s wall")
        one = json.loads((out / "whole" / "report.json").read_text(encoding="utf-8"))
        both = json.loads((out / "merged.json").read_text(encoding="utf-8"))
        same = without_timings(one) == without_timings(both)
        print(f"merged report equals the unsharded run's, timings apart: {same}")
        statuses += [whole.returncode, 0 if same else 1]
    return max([*statuses, merged.returncode])


if __name__ == "__main__":
    sys.exit(main())
