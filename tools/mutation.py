"""Mutation testing of the kit: generated mutants of the reference runtime and the bundled plugins.

Two campaigns, each judged by the kit itself:

- ``runtime``: mutants of the reference runtime's contract-bearing modules, each certified with
  ``pytest --kora-conformance --kora-runtime kora_conformance:reference_adapter`` (the
  runtime checks, nothing else);
- ``plugins``: mutants of the bundled plugins (marvin, kora, listener_example), each certified
  with ``pytest --kora-conformance --kora-plugin plugins/<name>`` (the plugin checks).

A mutant is **killed** when the certification of the mutated target exits non-zero (its verdict
is not CONFORMANT: a MUST check failed, a check did not run, or the kit could not even load the
target); a certification that outlives ``--timeout`` is stopped and counted as killed, but
recorded as ``timeout``. A mutant **survives** when the mutated target is still CONFORMANT.

The mutants come from cosmic-ray's operators (``pip install -e '.[mutation]'``). Cosmic-ray was
chosen over mutmut because of how the kit runs: every check runs in a child process forked from
a fork server that preloads the kit and the runtime, inside a sandbox that rewrites
``sys.modules``, ``sys.path`` and the environment. Cosmic-ray's model (rewrite one file on disk,
run the test command as a subprocess, put the file back) survives all of that, because the
mutated code is simply what every process imports. Mutmut 3 instead copies the tree, rewrites
each function into a trampoline that picks a variant from an environment variable, and maps
tests to functions through a pytest plugin in its own process: the runtime code runs in the
kit's children, which that plugin never sees, and the trampolines change the very callables
(names, qualnames, identity) that several checks compare. Only cosmic-ray's operators and its
mutation visitor are used here, as a library; the driving loop (sampling, timeouts, the kit's
verdict, restoring files) is this script's.

Nothing is mutated in the checkout: the tracked files are copied into a temporary directory, the
certifications run there (``PYTHONPATH`` and the working directory point at the copy, bytecode
writing is off so no stale ``.pyc`` can mask a mutant), and every mutated file is restored after
its run, on an exception or a signal too; the copy is deleted at the end. Before a target's
mutants, its unmutated certification must be CONFORMANT (the baseline) and a canary (the module
made to raise at import) must be killed, which proves the copy is what the kit certifies.

    python tools/mutation.py --campaign runtime --sample 80 --seed 1
    python tools/mutation.py --campaign plugins
    python tools/mutation.py --campaign runtime --module reference_runtime/_loading.py --list

Results go to ``build/mutation/<campaign>.json`` (rewritten after every mutant; ``--resume``
skips the mutants already there) and the Markdown summary to ``build/mutation/<campaign>.md``.
Survivors are classified in ``tools/mutation_triage.json`` (``equivalent``, ``outside`` the
contract, or ``gap`` in a check, with the reason); the adjusted score leaves the first two out.
It runs certifications for minutes to hours, so it is not part of the test command.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRIAGE = REPO / "tools" / "mutation_triage.json"

#: The reference runtime's modules that carry contract rules (loading, precedence, identity,
#: dispatch, daemons, the coordinator and its plan, fires and bounded waits, the load report);
#: the Hermes surface tables, the timeline recorder and the CLI are left out.
RUNTIME_MODULES: tuple[str, ...] = tuple(
    f"reference_runtime/_{name}.py"
    for name in (
        "runtime",
        "context",
        "loading",
        "discovery",
        "entry_points",
        "identity",
        "engine",
        "dispatch",
        "daemons",
        "listeners",
        "dual",
        "coordinator",
        "start_phase",
        "stop_phase",
        "plan",
        "fire",
        "waits",
        "load_report",
        "queries",
    )
)
#: Each bundled plugin directory and its Python files.
PLUGINS: dict[str, tuple[str, ...]] = {
    "plugins/marvin": ("plugins/marvin/__init__.py", "plugins/marvin/src/marvin/__init__.py"),
    "plugins/kora": ("plugins/kora/__init__.py",),
    "plugins/listener_example": ("plugins/listener_example/__init__.py",),
}
RUNTIME_TARGET = "runtime"
KILLED = ("killed", "timeout")
INCOMPETENT = "incompetent"


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One mutation: ``operator``'s ``occurrence``-th position in ``module`` (repo-relative).

    ``line`` and ``col`` locate it (1-based line); ``target`` is what is certified to judge it
    (``runtime`` or a plugin directory).
    """

    module: str
    operator: str
    occurrence: int
    line: int
    col: int
    target: str

    @property
    def id(self) -> str:
        return f"{self.module}@{self.operator}#{self.occurrence}"


@dataclasses.dataclass
class Outcome:
    """What the kit said about one mutant (or a baseline or canary run)."""

    status: str  # killed | timeout | survived
    exit_code: int | None
    verdict: str | None
    failed: list[str]
    warned: list[str]
    check_timeouts: list[str]
    duration: float
    output_tail: str = ""


# --- generating mutants ------------------------------------------------------------------------


def _operators() -> list[tuple[str, Any]]:
    try:
        from cosmic_ray import plugins  # noqa: PLC0415 - the optional [mutation] extra
    except ImportError as exc:
        msg = "tools/mutation.py needs cosmic-ray: pip install -e '.[mutation]'"
        raise SystemExit(msg) from exc
    # Operators that take arguments need a configuration; the core set needs none.
    return [
        (name, plugins.get_operator(name)())
        for name in plugins.operator_names()
        if not plugins.get_operator(name).arguments()
    ]


def _annotation_spans(tree: Any) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the annotations of a parso tree are (parameters, returns, annotated assignments)."""
    from cosmic_ray.ast import ast_nodes  # noqa: PLC0415

    spans = []
    for node in ast_nodes(tree):
        annotation = None
        if node.type in {"param", "funcdef"}:
            annotation = node.annotation
        elif node.type == "annassign":
            annotation = node.children[1]
        if annotation is not None:
            spans.append((annotation.start_pos, annotation.end_pos))
    return spans


def generate(root: Path, module: str, target: str) -> tuple[list[Mutant], int]:
    """Every mutant of ``root / module``, and how many were left out as annotations.

    In a module with ``from __future__ import annotations`` an annotation is a string nobody
    evaluates (the runtime's ``inspect.signature`` calls do not resolve them), so a mutant
    inside one cannot change behaviour: it is equivalent by construction and not generated.
    """
    from cosmic_ray.ast import ast_nodes, get_ast  # noqa: PLC0415

    source = (root / module).read_text(encoding="utf-8")
    tree = get_ast(source)
    postponed = "from __future__ import annotations" in source
    spans = _annotation_spans(tree) if postponed else []
    mutants: list[Mutant] = []
    skipped = 0
    for name, operator in _operators():
        occurrence = 0
        for node in ast_nodes(tree):
            for start, _end in operator.mutation_positions(node):
                if any(lo <= start < hi for lo, hi in spans):
                    skipped += 1
                else:
                    mutants.append(Mutant(module, name, occurrence, start[0], start[1], target))
                # The occurrence counts every position, as cosmic-ray's visitor does.
                occurrence += 1
    return mutants, skipped


def mutated_source(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant`` applied (cosmic-ray's visitor)."""
    from cosmic_ray import plugins  # noqa: PLC0415
    from cosmic_ray.mutating import MutationVisitor  # noqa: PLC0415

    operator = plugins.get_operator(mutant.operator)()
    code = MutationVisitor.mutate_code(source, operator, mutant.occurrence)
    if code is None:
        msg = f"{mutant.id}: cosmic-ray found no such position in {mutant.module}"
        raise ValueError(msg)
    return str(code)


def compiles(text: str, name: str) -> bool:
    """Whether ``text`` is valid Python (some generated mutants are not)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a mutant's `x is "literal"` is not our concern
            compile(text, name, "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def mark_incompetent(records: list[dict[str, Any]], root: Path) -> None:
    """Mark the records whose mutant does not compile against the sources at ``root``
    (results written before the tool checked that)."""
    for record in records:
        if record["status"] in KILLED and not record.get("failed"):
            fields = {f.name: record[f.name] for f in dataclasses.fields(Mutant)}
            text = mutated_source(
                (root / record["module"]).read_text(encoding="utf-8"), Mutant(**fields)
            )
            if not compiles(text, record["module"]):
                record["status"] = INCOMPETENT


def sample(mutants: Sequence[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """A reproducible sample of ``n`` mutants (all when ``n`` is None), in the order to run them.

    Modules take turns, and a module gives one mutant of every code site (in a shuffled order)
    before a second one of any site. The result is in that round-robin order, so a campaign
    stopped early has still covered every module evenly; a larger ``n`` with the same seed
    extends a smaller one (``--resume`` reuses what was done).
    """
    rng = random.Random(seed)
    queues: list[list[Mutant]] = []
    for module in dict.fromkeys(m.module for m in mutants):
        sites: dict[tuple[int, int], list[Mutant]] = {}
        for mutant in (m for m in mutants if m.module == module):
            sites.setdefault((mutant.line, mutant.col), []).append(mutant)
        groups = list(sites.values())
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
        depth = max(len(g) for g in groups)
        queues.append([g[k] for k in range(depth) for g in groups if k < len(g)])
    limit = len(mutants) if n is None else min(n, len(mutants))
    chosen: list[Mutant] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


# --- applying and restoring --------------------------------------------------------------------


@contextlib.contextmanager
def applied(path: Path, text: str, label: str = "") -> Iterator[str]:
    """Write ``text`` over ``path`` for the duration of the block; yield the unified diff.

    The original bytes are put back on any exit, and checked.
    """
    original = path.read_bytes()
    old = original.decode("utf-8")
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"a/{label or path.name}",
            f"b/{label or path.name}",
            n=1,
        )
    )
    try:
        path.write_text(text, encoding="utf-8")
        yield diff
    finally:
        path.write_bytes(original)
        if path.read_bytes() != original:  # pragma: no cover - a full disk, at worst
            msg = f"could not restore {path}"
            raise RuntimeError(msg)


def copy_tree(source: Path, destination: Path) -> None:
    """Copy the tracked files of ``source`` (symlinks as links) into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=source, check=True, capture_output=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        src, dst = source / name, destination / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        elif src.is_file():  # a file deleted in the work tree is still listed
            shutil.copy2(src, dst)


# --- certifying ----------------------------------------------------------------------------------


def command(target: str, report: Path, kora_timeout: float, seed: int) -> list[str]:
    """The certification of ``target``: the runtime checks alone for the runtime, the plugin
    checks for a plugin directory. Nothing that can judge the target is deselected."""
    base = [sys.executable, "-m", "pytest", "--kora-conformance", "-q", "-p", "no:cacheprovider"]
    base += ["--kora-timeout", f"{kora_timeout:g}", "--kora-seed", str(seed)]
    base += ["--kora-report", str(report)]
    if target == RUNTIME_TARGET:
        return [*base, "--kora-runtime", "kora_conformance:reference_adapter"]
    return [*base, "--kora-plugin", target]


def read_verdict(report: Path, exit_code: int | None, duration: float, tail: str) -> Outcome:
    """Judge one certification by its exit status; the report says which checks caught it."""
    failed: list[str] = []
    warned: list[str] = []
    check_timeouts: list[str] = []
    verdict = None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        document = json.loads(report.read_text(encoding="utf-8"))
        verdict = document["verdict"]
        for target in document["targets"]:
            for check in target["checks"]:
                if check["outcome"] in {"failed", "not-run"}:
                    failed.append(check["id"])
                    if "--kora-timeout" in check.get("expected", ""):
                        check_timeouts.append(check["id"])
                elif check["outcome"] == "warned":
                    warned.append(check["id"])
    status = "timeout" if exit_code is None else "survived" if exit_code == 0 else "killed"
    return Outcome(status, exit_code, verdict, failed, warned, check_timeouts, duration, tail)


def certify(
    root: Path, target: str, *, timeout: float, kora_timeout: float, seed: int, niceness: int
) -> Outcome:
    """Certify ``target`` in the tree at ``root``, at lower priority, within ``timeout``."""
    with tempfile.TemporaryDirectory(prefix="kora-mutation-report-") as scratch:
        report = Path(scratch) / "report.json"
        argv = command(target, report, kora_timeout, seed)
        if niceness and shutil.which("nice"):
            argv = ["nice", "-n", str(niceness), *argv]
        env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.monotonic()
        exit_code: int | None = None
        output = b""
        process = subprocess.Popen(
            argv,
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a timeout stops the kit's children too
        )
        try:
            output, _ = process.communicate(timeout=timeout)
            exit_code = process.returncode
        except subprocess.TimeoutExpired:
            pass  # exit_code stays None: a timeout
        finally:
            # On a timeout, and on an interruption of this script, stop the kit's whole group.
            if process.poll() is None or exit_code is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        tail = output.decode("utf-8", "replace")[-1500:]
        return read_verdict(report, exit_code, time.monotonic() - started, tail)


def check_imports(root: Path) -> None:
    """Fail unless the kit and the runtime import from the copy, not from the checkout."""
    probe = "import kora_conformance, reference_runtime; print(kora_conformance.__file__); "
    probe += "print(reference_runtime.__file__)"
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    seen = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    if not all(Path(p).resolve().is_relative_to(root.resolve()) for p in seen):
        msg = f"the copy at {root} is not what Python imports: {seen}"
        raise SystemExit(msg)


# --- results -------------------------------------------------------------------------------------


def load_triage(path: Path = TRIAGE) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    triage: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return triage


def scores(records: Sequence[dict[str, Any]], triage: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Raw and adjusted scores of ``records``: the adjusted one leaves out the survivors
    classified ``equivalent`` or ``outside`` (the contract does not cover them)."""
    incompetent = sum(r["status"] == INCOMPETENT for r in records)
    records = [r for r in records if r["status"] != INCOMPETENT]
    killed = sum(r["status"] in KILLED for r in records)
    excluded = sum(
        r["status"] == "survived"
        and triage.get(r["id"], {}).get("class") in {"equivalent", "outside"}
        for r in records
    )
    judged = len(records) - excluded
    return {
        "mutants": len(records),
        "killed": killed,
        "timeouts": sum(r["status"] == "timeout" for r in records),
        "survived": len(records) - killed,
        "excluded": excluded,
        "incompetent": incompetent,
        "raw": killed / len(records) if records else None,
        "adjusted": killed / judged if judged else None,
    }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def render_summary(
    campaign: str, records: Sequence[dict[str, Any]], triage: dict[str, dict[str, Any]]
) -> str:
    """The Markdown summary: the campaign's score, one row per module, then every survivor."""
    total = scores(records, triage)
    lines = [
        f"# Mutation campaign `{campaign}`",
        "",
        f"{total['mutants']} mutants, {total['killed']} killed ({total['timeouts']} by timeout), "
        f"{total['survived']} survived; score {_percent(total['raw'])}, "
        f"{_percent(total['adjusted'])} of the {total['mutants'] - total['excluded']} "
        "non-equivalent ones (survivors triaged `equivalent` or `outside` left out); "
        f"{total['incompetent']} generated mutants that are not valid Python not counted.",
        "",
        "| module | mutants | killed | timeouts | survived | score | adjusted |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module in sorted({r["module"] for r in records}):
        s = scores([r for r in records if r["module"] == module], triage)
        lines.append(
            f"| `{module}` | {s['mutants']} | {s['killed']} | {s['timeouts']} | {s['survived']} "
            f"| {_percent(s['raw'])} | {_percent(s['adjusted'])} |"
        )
    lines += ["", "## Survivors", ""]
    survivors = sorted(
        (r for r in records if r["status"] == "survived"), key=lambda r: (r["module"], r["line"])
    )
    if not survivors:
        lines.append("None.")
    for r in survivors:
        entry = triage.get(r["id"], {})
        label = entry.get("class", "untriaged")
        warned = f" (SHOULD warnings: {', '.join(r['warned'])})" if r["warned"] else ""
        lines += [
            f"### `{r['module']}:{r['line']}` {r['operator']} — {label}{warned}",
            "",
            entry.get("reason", "Not classified yet."),
            "",
            "```diff",
            r["diff"].rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _write_json(path: Path, document: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)  # atomic: an interrupted run never leaves half a file


# --- the campaign ---------------------------------------------------------------------------------


def _targets(campaign: str) -> dict[str, tuple[str, ...]]:
    if campaign == "runtime":
        return {RUNTIME_TARGET: RUNTIME_MODULES}
    return dict(PLUGINS)


def _canary(source: str) -> str:
    return source + "\nraise RuntimeError('mutation canary: this module must not load')\n"


def _raise_on_signal(signum: int, _frame: object) -> None:
    msg = f"signal {signum}"
    raise KeyboardInterrupt(msg)


def _collect(args: argparse.Namespace, root: Path) -> tuple[list[Mutant], int]:
    """Every mutant of the campaign's (selected) modules, and how many annotations left out."""
    mutants: list[Mutant] = []
    skipped = 0
    for target, modules in _targets(args.campaign).items():
        for module in modules:
            if not args.module or module in args.module:
                found, left_out = generate(root, module, target)
                mutants += found
                skipped += left_out
    return mutants, skipped


def _preflight(
    root: Path, targets: Sequence[str], certify_kw: dict[str, Any], log: Callable[[str], None]
) -> dict[str, Any] | None:
    """Each target's baseline must be CONFORMANT and its canary killed; ``None`` if not."""
    preflight: dict[str, Any] = {}
    for target in targets:
        baseline = certify(root, target, **certify_kw)
        if baseline.status != "survived":
            log(f"{target}: the unmutated certification is not CONFORMANT:\n{baseline.output_tail}")
            return None
        first = _targets("runtime" if target == RUNTIME_TARGET else "plugins")[target][0]
        path = root / first
        with applied(path, _canary(path.read_text(encoding="utf-8"))):
            canary = certify(root, target, **certify_kw)
        if canary.status == "survived":
            log(f"{target}: a module raising at import ({first}) was CONFORMANT; not the copy?")
            return None
        preflight[target] = {"baseline_seconds": round(baseline.duration, 1)}
        log(f"{target}: baseline CONFORMANT in {baseline.duration:.1f} s, canary killed")
    return preflight


def run_campaign(args: argparse.Namespace, root: Path, log: Callable[[str], None]) -> int:
    """Generate, sample and certify the campaign's mutants in the copy at ``root``."""
    out: Path = args.out
    results_path = out / f"{args.campaign}.json"
    previous: dict[str, dict[str, Any]] = {}
    preflight: dict[str, Any] = {}
    if (args.resume or args.summary_only) and results_path.exists():
        document = json.loads(results_path.read_text(encoding="utf-8"))
        previous = {r["id"]: r for r in document["mutants"]}
        preflight = document.get("preflight", {})
    if args.summary_only:
        return _summarise(args, list(previous.values()), log)
    mutants, skipped = _collect(args, root)
    chosen = sample(mutants, args.sample, args.seed)
    log(f"{len(mutants)} mutants ({skipped} in annotations left out), {len(chosen)} chosen")
    if args.list:
        for mutant in chosen:
            print(f"{mutant.module}:{mutant.line}:{mutant.col} {mutant.operator} ({mutant.id})")
        return 0
    check_imports(root)
    certify_kw = {
        "timeout": args.timeout,
        "kora_timeout": args.kora_timeout,
        "seed": args.seed,
        "niceness": args.nice,
    }
    records = [previous[m.id] for m in chosen if m.id in previous]
    todo = [m for m in chosen if m.id not in previous]
    checked = _preflight(root, list(dict.fromkeys(m.target for m in todo)), certify_kw, log)
    if checked is None:
        return 2
    preflight.update(checked)
    for index, mutant in enumerate(todo, 1):
        path = root / mutant.module
        text = mutated_source(path.read_text(encoding="utf-8"), mutant)
        if not compiles(text, mutant.module):
            # Not a program (cosmic-ray turns a bare `*` in a signature into `**`): nothing
            # for the kit to judge, so it is neither killed nor survived.
            record = {**dataclasses.asdict(mutant), "id": mutant.id, "status": INCOMPETENT}
            records.append(record)
            continue
        with applied(path, text, mutant.module) as diff:
            outcome = certify(root, mutant.target, **certify_kw)
        record = {**dataclasses.asdict(mutant), "id": mutant.id, "diff": diff}
        record.update(dataclasses.asdict(outcome))
        if outcome.status == "survived":
            record["output_tail"] = ""
        records.append(record)
        caught = ", ".join(outcome.failed) or outcome.status
        log(
            f"[{index}/{len(todo)}] {mutant.module}:{mutant.line} {mutant.operator}: "
            f"{outcome.status} ({caught}) {outcome.duration:.0f} s"
        )
        document = {"campaign": args.campaign, "seed": args.seed, "preflight": preflight}
        _write_json(results_path, {**document, "mutants": records})
    return _summarise(args, records, log)


def _summarise(
    args: argparse.Namespace, records: list[dict[str, Any]], log: Callable[[str], None]
) -> int:
    """Write the Markdown summary of ``records`` with the current triage, and log the score."""
    mark_incompetent(records, REPO)
    triage = load_triage(args.triage)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = args.out / f"{args.campaign}.md"
    summary.write_text(render_summary(args.campaign, records, triage), encoding="utf-8")
    s = scores(records, triage)
    log(
        f"{args.campaign}: {s['killed']}/{s['mutants']} killed, score {_percent(s['raw'])}, "
        f"adjusted {_percent(s['adjusted'])}; summary in {summary}"
    )
    untriaged = [r["id"] for r in records if r["status"] == "survived" and r["id"] not in triage]
    if untriaged:
        log(f"{len(untriaged)} survivors not triaged yet: {', '.join(untriaged)}")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--campaign", choices=("runtime", "plugins"), required=True)
    parser.add_argument("--module", action="append", help="only this module (repeatable)")
    parser.add_argument("--sample", type=int, help="certify N mutants (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="sampling and hypothesis seed")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per mutant")
    parser.add_argument("--kora-timeout", type=float, default=30.0, help="seconds per check")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the certifications")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "mutation")
    parser.add_argument("--triage", type=Path, default=TRIAGE)
    parser.add_argument("--resume", action="store_true", help="keep the results already there")
    parser.add_argument("--list", action="store_true", help="list the chosen mutants and stop")
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="only rewrite the Markdown summary from the results file and the triage",
    )
    parser.add_argument("--keep-tree", action="store_true", help="keep the temporary copy")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.summary_only:
        return run_campaign(args, REPO, lambda line: print(line, flush=True))
    signal.signal(signal.SIGTERM, _raise_on_signal)
    signal.signal(signal.SIGHUP, _raise_on_signal)
    root = Path(tempfile.mkdtemp(prefix="kora-mutation-tree-"))
    try:
        copy_tree(REPO, root)
        return run_campaign(args, root, lambda line: print(line, flush=True))
    finally:
        if args.keep_tree:
            print(f"the mutated tree's copy is kept at {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
