"""Certifying a share of a corpus: environments, certification runs, one record per target.

Two kinds of work, both on the kit's own engine:

- A target that needs an environment (a package, or a directory to install) gets one, built by
  :class:`~.install.Installer`, and is certified there by ``pytest --kora-conformance`` in that
  environment's interpreter. These run in a pool of ``jobs`` workers
  (:class:`concurrent.futures.ThreadPoolExecutor`; each worker waits on its subprocesses).
- Directory targets that need nothing installed (local paths, checked-out repositories) are
  certified together in one ``pytest --kora-conformance -n jobs`` run of this interpreter, so
  pytest-xdist spreads their checks over the cores and pytest starts once, not once per
  target. That run's report is split by target. A target the run has no result for (the run
  crashed) is certified again on its own, so one bad plugin costs only its own result.

Every certification runs in an empty directory, with ``HOME`` and ``HERMES_HOME`` in a scratch
directory and ``HERMES_DISABLE_LAZY_INSTALLS=1`` (some plugins install packages or write under
``~`` at import), and none of an enclosing pytest run's ``PYTEST_*`` settings.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from kora_conformance._errors import TargetError
from kora_conformance.ecosystem.corpus import Entry, slug
from kora_conformance.ecosystem.install import Installer, InstallFailed, checkout, run_command, tail
from kora_conformance.ecosystem.report import certified_record, document, failed_record, write_json
from kora_conformance.model._targets import resolve_targets

__all__ = ["RunOptions", "certify_corpus", "worst_verdict"]

_WORST_FIRST = ("not-conformant", "needs-host", "incomplete", "nothing-checked", "conformant")


def stable_root() -> Path:
    """Where environments and checkouts go: a path that depends on the target only.

    Their paths show in what plugins say (tracebacks, error messages, a checkout's location),
    and a target's record must not depend on which run certified it: a shard's report merged
    with the others equals the report of one run of the whole corpus.
    """
    return Path(tempfile.gettempdir()) / "kora-ecosystem"


def _lock(path: Path) -> IO[str]:
    """Hold ``path`` exclusively (waiting for it) until the returned file is closed, so that two
    runs on one machine never build or delete the same target's environment at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a", encoding="utf-8")
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows: runs on one machine must not overlap
        return handle
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How to certify a share.

    :param out: where reports, logs and (while running) environments go.
    :param jobs: workers: environments built at once, and pytest-xdist workers.
    :param seed: the hypothesis seed of every certification (fixed, so that shards and re-runs
        draw the same examples).
    :param max_examples: examples per property-based check (the kit's default when ``None``).
    :param installer: ``auto``, ``uv`` or ``pip``.
    :param kit: the kit requirement for environments (see :class:`~.install.Installer`).
    :param timeout: seconds one installation, or one target's certification, may take.
    :param keep: keep environments and checkouts after the run.
    """

    out: Path
    jobs: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 0
    max_examples: int | None = None
    installer: str = "auto"
    kit: str | None = None
    timeout: float = 900.0
    keep: bool = False


@dataclasses.dataclass(frozen=True)
class _InPlace:
    """A directory to certify in this interpreter, and what getting it cost."""

    entry: Entry
    directory: Path
    install: float = 0.0


def _environment(home: Path, entry_env: Iterable[tuple[str, str]]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    (home / "hermes").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        HERMES_HOME=str(home / "hermes"),
        HERMES_DISABLE_LAZY_INSTALLS="1",
    )
    env.update(entry_env)
    return env


def worst_verdict(verdicts: Iterable[str]) -> str:
    """The worst of a plugin's targets' verdicts (a package with several entry points): a
    target that needs the host, or rests on nothing checked, never reads as conformant."""
    seen = set(verdicts)
    return next((v for v in _WORST_FIRST if v in seen), "conformant")


def _part(report: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any] | None:
    """``report`` narrowed to the targets ``names``; ``None`` if it has none of them."""
    targets = [t for t in report["targets"] if t["name"] in names]
    if len(targets) != len(names):
        return None
    return {**report, "verdict": worst_verdict(t["verdict"] for t in targets), "targets": targets}


class _Run:
    def __init__(
        self,
        options: RunOptions,
        progress: Callable[[dict[str, Any]], None],
        installer: Installer | None = None,
    ) -> None:
        self.options = options
        self.progress = progress
        # Absolute: each certification runs in a directory of its own.
        self.work = options.out.resolve() / "work"
        self.logs = options.out.resolve() / "logs"
        self.root = stable_root()
        #: Locks of the checkouts certified in place, held until the run ends.
        self.held: list[tuple[IO[str], Path]] = []
        self._installer = installer

    @property
    def installer(self) -> Installer:
        if self._installer is None:
            self._installer = Installer(
                self.options.installer,
                self.work,
                kit=self.options.kit,
                timeout=self.options.timeout,
            )
        return self._installer

    def _pytest(
        self,
        python: Path | str,
        plugins: Sequence[str],
        name: str,
        env: Mapping[str, str],
        *,
        workers: int = 1,
    ) -> tuple[dict[str, Any] | None, str, float]:
        """Certify ``plugins`` with ``python``; the report (``None`` if none was written), the
        output's tail, and the wall time."""
        run_dir = self.work / "runs" / name
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        report_path = run_dir / "report.json"
        args: list[str | Path] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        args += ["--kora-conformance", "--kora-seed", str(self.options.seed)]
        args += ["--kora-report", report_path]
        if self.options.max_examples is not None:
            args += ["--kora-max-examples", str(self.options.max_examples)]
        if workers > 1:
            args += ["-n", str(workers)]
        for plugin in plugins:
            args += ["--kora-plugin", plugin]
        done = run_command(
            args, cwd=run_dir, env=env, timeout=self.options.timeout * max(1, len(plugins))
        )
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.logs / f"{name}.txt").write_text(done.output, encoding="utf-8")
        report: dict[str, Any] | None = None
        if report_path.is_file():
            report = json.loads(report_path.read_text(encoding="utf-8"))
        if done.status is None:
            limit = self.options.timeout * max(1, len(plugins))
            return None, f"the certification timed out after {limit:g} s", done.seconds
        return report, tail(done.output), done.seconds

    # --- targets with an environment of their own --------------------------------------------

    def prepare(self, entry: Entry) -> dict[str, Any] | _InPlace:
        """Check out and install ``entry`` as it needs; certify it if it got an environment."""
        started = time.perf_counter()
        name = slug(entry.id)
        lock = _lock(self.root / "locks" / f"{name}.lock")
        source = self.root / "src" / name
        try:
            return self._prepare(entry, name, started, lock, source)
        finally:
            if not any(handle is lock for handle, _ in self.held):
                if not self.options.keep:
                    shutil.rmtree(source, ignore_errors=True)
                    shutil.rmtree(self.root / "home" / name, ignore_errors=True)
                lock.close()

    def _prepare(
        self, entry: Entry, name: str, started: float, lock: IO[str], source: Path
    ) -> dict[str, Any] | _InPlace:
        directory = entry.path
        try:
            if entry.kind == "repository":
                shutil.rmtree(source, ignore_errors=True)
                checkout(entry.repository, entry.commit, source, timeout=self.options.timeout)
                directory = source / entry.subdirectory if entry.subdirectory else source
                if not directory.is_dir():
                    msg = (
                        f"commit {entry.commit} of {entry.repository} has no directory "
                        f"{entry.subdirectory!r}; fix the target's 'subdirectory'"
                    )
                    raise InstallFailed(msg)
            if not entry.needs_environment:
                assert directory is not None
                self.held.append((lock, source))
                return _InPlace(entry, directory, time.perf_counter() - started)
            requirements = [*entry.requirements]
            if entry.kind == "package":
                requirements.insert(0, entry.package)
            elif entry.install:
                requirements.insert(0, str(directory))
            env_dir = self.root / "envs" / name
            shutil.rmtree(env_dir, ignore_errors=True)
            python, _ = self.installer.create(env_dir, requirements)
        except InstallFailed as exc:
            spent = time.perf_counter() - started
            return failed_record(entry, "uninstallable", str(exc), install=spent)
        spent = time.perf_counter() - started
        try:
            plugin = entry.entry_point if entry.kind == "package" else str(directory)
            env = _environment(self.root / "home" / name, entry.env)
            report, output, seconds = self._pytest(python, [plugin], name, env)
        finally:
            if not self.options.keep:
                shutil.rmtree(env_dir, ignore_errors=True)
        if report is None:
            reason = f"no certification report was written:\n{output}"
            return failed_record(entry, "error", reason, install=spent)
        return certified_record(entry, report, install=spent, certify=seconds)

    # --- directories certified in place, together --------------------------------------------

    def _names(self, planned: _InPlace) -> list[str] | str:
        """The target names the kit will find in ``planned``, or why it will find none."""
        try:
            targets, _ = resolve_targets([str(planned.directory)], planned.directory)
        except TargetError as exc:
            return str(exc)
        return [t.name for t in targets]

    def in_place(self, planned: Sequence[_InPlace]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        batches: list[list[tuple[_InPlace, list[str]]]] = []
        for item in planned:
            names = self._names(item)
            if isinstance(names, str):
                record = failed_record(item.entry, "error", names, install=item.install)
                records.append(record)
                self.progress(record)
                continue
            # One run per set of environment variables, and no target name twice in a run
            # (the kit would certify only the first of two same-named plugins).
            batch = next(
                (
                    b
                    for b in batches
                    if b[0][0].entry.env == item.entry.env
                    and not {n for _, ns in b for n in ns} & set(names)
                ),
                None,
            )
            if batch is None:
                batches.append([(item, names)])
            else:
                batch.append((item, names))
        xdist = importlib.util.find_spec("xdist") is not None
        for number, batch in enumerate(batches, start=1):
            env = _environment(self.work / "home" / f"batch-{number}", batch[0][0].entry.env)
            workers = min(self.options.jobs, len(batch)) if xdist else 1
            report, _, _ = self._pytest(
                sys.executable,
                [str(item.directory) for item, _ in batch],
                f"batch-{number}",
                env,
                workers=workers,
            )
            for item, names in batch:
                part = _part(report, names) if report is not None else None
                if part is None:
                    record = self._alone(item, names)
                else:
                    record = certified_record(item.entry, part, install=item.install)
                records.append(record)
                self.progress(record)
        return records

    def _alone(self, item: _InPlace, names: list[str]) -> dict[str, Any]:
        """Certify one directory in a run of its own (its shared run gave no result for it)."""
        name = slug(item.entry.id)
        env = _environment(self.work / "home" / name, item.entry.env)
        report, output, seconds = self._pytest(sys.executable, [str(item.directory)], name, env)
        part = _part(report, names) if report is not None else None
        if part is None:
            reason = f"no certification report was written:\n{output}"
            return failed_record(item.entry, "error", reason, install=item.install)
        return certified_record(item.entry, part, install=item.install, certify=seconds)


def certify_corpus(
    entries: Sequence[Entry],
    options: RunOptions,
    *,
    progress: Callable[[dict[str, Any]], None] = lambda record: None,
    installer: Installer | None = None,
) -> dict[str, Any]:
    """Certify ``entries``; write one report per target and the share's report; return it.

    Writes ``OUT/targets/<slug>.json`` per target and ``OUT/report.json`` for all of them
    (``kora-conformance-ecosystem/1``), and each certification's output under ``OUT/logs/``.
    A target that cannot be installed or certified gets its ``uninstallable`` or ``error``
    record; nothing one target does stops the others.

    :param progress: called with each target's record as soon as it has one.
    :param installer: builds the environments (default: one made from ``options``).
    """
    run = _Run(options, progress, installer)
    records: list[dict[str, Any]] = []
    planned: list[_InPlace] = []
    elsewhere = [e for e in entries if e.kind == "repository" or e.needs_environment]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        for done in pool.map(run.prepare, elsewhere):
            if isinstance(done, _InPlace):
                planned.append(done)
            else:
                records.append(done)
                progress(done)
    planned = [_InPlace(e, e.path) for e in entries if e not in elsewhere and e.path] + planned
    try:
        records += run.in_place(planned)
    finally:
        for lock, source in run.held:
            if not options.keep:
                shutil.rmtree(source, ignore_errors=True)
            lock.close()
    for record in records:
        write_json(options.out / "targets" / f"{slug(str(record['id']))}.json", document([record]))
    result = document(records)
    write_json(options.out / "report.json", result)
    if not options.keep:
        shutil.rmtree(run.work, ignore_errors=True)
    return result
