"""Certify the published Hermes plugins, each in an environment of its own, and tabulate.

For every row of a ``published.tsv`` (columns ``name``, ``version``, ``entry_point``, ...), this
script makes a virtual environment, installs the kit (with its ``hermes`` extra), the given
``hermes-agent`` release and the plugin ``name==version`` from the package index, then runs
``pytest --kora-conformance --kora-plugin <entry_point>`` from an empty directory with ``HOME``
and ``HERMES_HOME`` in a temporary directory and ``HERMES_DISABLE_LAZY_INSTALLS=1`` (some
plugins install packages or write under ``~`` at import). It prints one row per plugin:
verdict, whether ``register`` completed (KC-PL-001 passed), and the reason, then the tally.

Two install conflicts are retried rather than counted against the plugin: a plugin that pins
another ``hermes-agent`` (or needs a dependency the pinned release rules out) is installed with
the host release the resolver picks within the extra's range, and one that needs
a newer Python than ``--python`` gets the next interpreter of ``--python`` that exists. The row
says which host and Python it ran with.

It needs the network (the package index), so it is not part of the test suite. ``uv`` is used
when it is on ``PATH`` (environments share its cache, which makes 100 installs affordable);
otherwise ``python -m venv`` and pip. Nothing of the plugins is kept: each environment is
deleted after its run unless ``--keep`` is given.

    python tools/corpus.py --tsv published.tsv --kit dist/kora_conformance-0.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

#: Seconds allowed for one environment's install, and for one certification.
INSTALL_TIMEOUT = 900
CERTIFY_TIMEOUT = 600


@dataclasses.dataclass(frozen=True)
class Plugin:
    """One row of the corpus."""

    name: str
    version: str
    entry_point: str

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version} ({self.entry_point})"


@dataclasses.dataclass(frozen=True)
class Row:
    """What certifying one plugin gave."""

    plugin: Plugin
    verdict: str  # a report verdict, or install-failed / kit-error / timeout
    loads: bool  # register() completed: KC-PL-001 passed
    reason: str
    seconds: float
    host: str = ""  # the hermes-agent version and Python it ran with
    #: Of ``seconds``, how many went to making the environment (the rest: certifying).
    install_seconds: float = 0.0


def read_corpus(path: Path) -> list[Plugin]:
    """The plugins of a ``published.tsv``, in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [Plugin(r["name"], r["version"], r["entry_point"]) for r in rows]


def ordered(plugins: Sequence[Plugin], last: Sequence[str]) -> list[Plugin]:
    """``plugins`` with those ``last`` names (by distribution or entry-point name) moved to the
    end, in the order ``last`` gives; names that match nothing are ignored."""

    def rank(plugin: Plugin) -> int:
        for i, name in enumerate(last):
            if name in {plugin.name, plugin.entry_point}:
                return i + 1
        return 0

    return sorted(plugins, key=rank)  # stable: the file order within each rank


def append_row(path: Path, row: Row) -> None:
    """Add ``row`` to the JSON-lines record at ``path`` (one object a line), flushed at once,
    so that a run stopped at any point keeps every row it finished."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(dataclasses.asdict(row)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def recorded_rows(path: Path) -> list[Row]:
    """The rows a JSON-lines record holds; a line cut short by a stopped run is left out."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        data["plugin"] = Plugin(**data["plugin"])
        rows.append(Row(**data))
    return rows


def pending(plugins: Sequence[Plugin], done: Sequence[Row]) -> list[Plugin]:
    """The ``plugins`` no row of ``done`` is about (a resumed run certifies only these)."""
    finished = {row.plugin for row in done}
    return [p for p in plugins if p not in finished]


def _run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


class Templates:
    """One prepared environment per interpreter, holding what every plugin's environment has
    (the kit with its ``hermes`` extra, and the host release), made once and copied for each
    plugin, which then installs only the plugin and what it adds. Installing the host's
    hundred-odd dependencies afresh took most of each plugin's time with pip.

    :param build: makes an environment (``make_environment``'s signature); replaceable in tests.
    """

    def __init__(
        self,
        base: Path,
        requirements: Sequence[str],
        build: Callable[[Path, Sequence[str], str, Path | None], str | None] | None = None,
        *,
        given: Path | None = None,
    ) -> None:
        """:param given: an environment prepared already (``--template``), used for the
        first interpreter asked for instead of making one."""
        self.base = base
        self.requirements = list(requirements)
        self._build = build if build is not None else make_environment
        self._lock = threading.Lock()
        self._made: dict[str, Path | None] = {}
        self._given = given

    def get(self, python: str) -> Path | None:
        """The template for ``python``, made on first use; ``None`` if it could not be made
        (each plugin then gets an environment made from nothing)."""
        with self._lock:
            if python not in self._made and self._given is not None:
                self._made[python], self._given = self._given, None
            if python not in self._made:
                where = self.base / f"template-{len(self._made)}"
                error = self._build(where, self.requirements, python, None)
                self._made[python] = where if error is None else None
            return self._made[python]


def _link(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or no hard links there
        shutil.copy2(source, destination)


def make_environment(
    directory: Path, requirements: Sequence[str], python: str, template: Path | None = None
) -> str | None:
    """Create a venv at ``directory`` (a copy of ``template``, when given) and install
    ``requirements``; the error text, or None."""
    uv = shutil.which("uv")
    if template is not None:
        # A copy keeps the venv's own links to its interpreter; "python -m" finds the copy's
        # site-packages from its pyvenv.cfg, so nothing of the template is used from there.
        # Its files are hard links (seconds, not a minute, for 300 MB): pip replaces a file
        # it upgrades rather than writing into it, and byte-code is written atomically too,
        # so the template's files are never changed through a copy.
        shutil.copytree(template, directory, symlinks=True, copy_function=_link)
        steps = [[str(directory / "bin" / "python"), "-m", "pip", "install", "-q", *requirements]]
    elif uv is not None:
        steps = [
            [uv, "venv", "-q", "-p", python, str(directory)],
            [uv, "pip", "install", "-q", "--python", str(directory / "bin" / "python"),
             *requirements],
        ]  # fmt: skip
    else:
        steps = [
            [python, "-m", "venv", str(directory)],
            [str(directory / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
        ]
    for step in steps:
        try:
            done = _run(step, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"install timed out after {INSTALL_TIMEOUT} s"
        if done.returncode != 0:
            return _tail(done.stderr or done.stdout)
    return None


def _reason(target: dict[str, object]) -> str:
    checks = [c for c in target["checks"] if isinstance(c, dict)]  # type: ignore[attr-defined]
    verdict = target["verdict"]
    if verdict == "needs-host":
        need = target.get("needs_host") or {}
        return f"needs host module {need.get('module')!r}"  # type: ignore[union-attr]
    failed = [c for c in checks if c["outcome"] == "failed" and c["level"] == "MUST"]
    if failed:
        first = failed[0]
        ids = ", ".join(str(c["id"]) for c in failed)
        return f"{ids}: {first['message']}"
    ran = [c for c in checks if c["outcome"] in {"passed", "warned", "exempted"}]
    warned = [str(c["id"]) for c in checks if c["outcome"] == "warned"]
    not_run = [str(c["id"]) for c in checks if c["outcome"] == "not-run"]
    parts = [f"{len(ran)} checks ran"]
    if warned:
        parts.append(f"warnings {', '.join(warned)}")
    if not_run:
        parts.append(f"not run {', '.join(not_run)}")
    coverage = target.get("coverage")
    if isinstance(coverage, dict):
        parts.append(_basis(coverage))
    return "; ".join(parts)


def _basis(coverage: dict[str, object]) -> str:
    """What a verdict rests on, from the report's ``coverage``: checked kinds, then the rest."""
    checked = Counter(str(c["kind"]) for c in coverage.get("checked", []))  # type: ignore[attr-defined]
    uncovered = Counter(str(c["kind"]) for c in coverage.get("not_covered", []))  # type: ignore[attr-defined]
    line = "rests on " + (", ".join(f"{k} x{n}" for k, n in checked.items()) or "nothing checked")
    if uncovered:
        line += "; not covered: " + ", ".join(f"{k} x{n}" for k, n in uncovered.items())
    return line


def certify(
    python: Path, plugin: Plugin, work: Path, keep_report: Path | None = None
) -> tuple[str, bool, str]:
    """Run the kit on ``plugin`` with ``python``; ``(verdict, loads, reason)``.

    :param keep_report: a directory to copy the certification's JSON report into, as
        ``<entry point>.json``, so a row's reading can be checked later without running it again.
    """
    home = work / "home"
    (home / ".hermes").mkdir(parents=True, exist_ok=True)
    empty = work / "cwd"
    empty.mkdir(exist_ok=True)
    report = work / "report.json"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KORA_", "VIRTUAL_"))
    }
    env.update(HOME=str(home), HERMES_HOME=str(home / ".hermes"), HERMES_DISABLE_LAZY_INSTALLS="1")
    argv = [str(python), "-m", "pytest", "--kora-conformance", "--kora-plugin", plugin.entry_point,
            "--kora-report", str(report), "-p", "no:cacheprovider", "-q"]  # fmt: skip
    try:
        done = _run(argv, timeout=CERTIFY_TIMEOUT, cwd=empty, env=env)
    except subprocess.TimeoutExpired:
        return "timeout", False, f"certification ran over {CERTIFY_TIMEOUT} s"
    if not report.is_file():
        return "kit-error", False, f"no report (exit {done.returncode}): {_tail(done.stdout)}"
    if keep_report is not None:
        keep_report.mkdir(parents=True, exist_ok=True)
        shutil.copy2(report, keep_report / f"{plugin.name}--{plugin.entry_point}.json")
    document = json.loads(report.read_text(encoding="utf-8"))
    targets = [t for t in document["targets"] if t["route"] != "runtime"]
    if not targets:
        return "kit-error", False, "the report has no plugin target"
    target = targets[0]
    load = next(c for c in target["checks"] if c["id"] == "KC-PL-001")
    return str(target["verdict"]), load["outcome"] == "passed", _reason(target)


def _installed_host(python: Path) -> str:
    probe = "import importlib.metadata as m, platform; print(m.version('hermes-agent'), "
    probe += "'on Python', platform.python_version())"
    done = _run([str(python), "-c", probe], timeout=60)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def install(plugin: Plugin, args: argparse.Namespace, env: Path) -> str | None:
    """Install the kit, the host and ``plugin`` into ``env``; the error text, or None.

    Retries a plugin that pins another host release with its own pin, and one that needs a
    newer Python with the next interpreter.
    """
    pins = [f"hermes-agent=={args.hermes}", ""]
    pythons = list(args.python)
    error: str | None = None
    while pythons:
        python = pythons[0]
        for pin in pins:
            requirements = [f"{args.kit}[hermes]", f"{plugin.name}=={plugin.version}"]
            requirements += [pin] if pin else []
            shutil.rmtree(env, ignore_errors=True)
            template = args.templates.get(python) if args.templates is not None else None
            error = make_environment(env, requirements, python, template)
            # A conflict that involves the host (a pin of its own, or a dependency the pinned
            # release constrains) is retried with the host the extra's range resolves to.
            if error is None or "hermes-agent" not in error:
                break
        # pip says "require a different python version" (uv: "Python version"): a plugin
        # release whose Requires-Python rules this interpreter out.
        if error is None or "python version" not in error.lower():
            return error
        pythons.pop(0)
    return error


def run_one(plugin: Plugin, args: argparse.Namespace, base: Path) -> Row:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"{plugin.name}-", dir=base))
    try:
        error = install(plugin, args, work / "env")
        installed = time.monotonic() - started
        if error is not None:
            row = Row(plugin, "install-failed", False, error, installed, "", installed)
        else:
            python = work / "env" / "bin" / "python"
            host = _installed_host(python)
            verdict, loads, reason = certify(python, plugin, work, args.reports)
            seconds = time.monotonic() - started
            row = Row(plugin, verdict, loads, reason, seconds, host, installed)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return row


def _cell(text: str, width: int = 110) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def render(rows: Sequence[Row], listed: int, hermes: str) -> str:
    """The Markdown table and tally."""
    lines = ["| plugin | verdict | loads | reason | host |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        loads = "yes" if row.loads else "no"
        lines.append(
            f"| {row.plugin.label} | {row.verdict} | {loads} | {_cell(row.reason)} | {row.host} |"
        )
    tally = Counter(row.verdict for row in rows)
    loaded = sum(row.loads for row in rows)
    lines += [
        "",
        f"hermes-agent {hermes}; {len(rows)} of {listed} listed plugins certified.",
        "verdicts: " + ", ".join(f"{v} {n}" for v, n in tally.most_common()),
        f"register() completed: {loaded} of {len(rows)} ({100 * loaded / max(len(rows), 1):.1f} %)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsv", type=Path, required=True, help="the published.tsv to certify")
    parser.add_argument("--kit", required=True, help="a kit wheel (or directory) to install")
    parser.add_argument("--hermes", default="0.19.0", help="the hermes-agent release")
    parser.add_argument(
        "--python",
        nargs="+",
        default=[sys.executable],
        help="interpreters for the venvs: the first, or the next for a plugin needing newer",
    )
    parser.add_argument("--jobs", type=int, default=2, help="plugins installed at once (≤ 2)")
    parser.add_argument("--only", nargs="*", default=(), help="certify only these names")
    parser.add_argument("--budget-minutes", type=float, default=0, help="start none after this")
    parser.add_argument("--out", type=Path, help="also write the table and JSON rows here")
    parser.add_argument("--keep", action="store_true", help="keep each environment")
    parser.add_argument(
        "--reports", type=Path, help="keep each certification's JSON report in this directory"
    )
    parser.add_argument(
        "--template",
        type=Path,
        help="a virtual environment holding the kit (with its hermes extra) and the host "
        "already, for the first --python: copied for each plugin instead of making one",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="make each environment from nothing, not from a copy of one holding the kit and "
        "the host (the default without uv)",
    )
    parser.add_argument(
        "--last",
        nargs="*",
        default=(),
        metavar="NAME",
        help="certify these (distribution or entry-point names) after all others, in this order",
    )
    parser.add_argument(
        "--record",
        type=Path,
        help="append each row to this JSON-lines file as it ends, and skip the plugins it "
        "already holds (resume a stopped run)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= 2:
        parser.error("--jobs must be 1 or 2: installs are heavy on a shared machine")

    plugins = read_corpus(args.tsv)
    listed = len(plugins)
    if args.only:
        plugins = [p for p in plugins if p.name in args.only or p.entry_point in args.only]
    plugins = ordered(plugins, args.last)
    earlier = recorded_rows(args.record) if args.record is not None else []
    plugins = pending(plugins, earlier)
    deadline = time.monotonic() + args.budget_minutes * 60 if args.budget_minutes else None
    base = Path(tempfile.mkdtemp(prefix="kora-corpus-"))
    args.templates = None
    if not args.fresh and shutil.which("uv") is None:
        args.templates = Templates(
            base, [f"{args.kit}[hermes]", f"hermes-agent=={args.hermes}"], given=args.template
        )
    rows: list[Row] = list(earlier)
    lock = threading.Lock()

    def job(plugin: Plugin) -> Row | None:
        if deadline is not None and time.monotonic() > deadline:
            return None
        row = run_one(plugin, args, base)
        with lock:
            if args.record is not None:
                append_row(args.record, row)
            print(f"{row.verdict:<15} {'loads' if row.loads else '-----'} {row.plugin.label}: "
                  f"{_cell(row.reason, 160)} ({row.seconds:.0f} s)", flush=True)  # fmt: skip
        return row

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(job, plugins):
            if result is not None:
                rows.append(result)
    shutil.rmtree(base, ignore_errors=True)
    table = render(rows, listed, args.hermes)
    print("\n" + table)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "corpus.md").write_text(table + "\n", encoding="utf-8")
        data = [dataclasses.asdict(r) for r in rows]
        (args.out / "corpus.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
