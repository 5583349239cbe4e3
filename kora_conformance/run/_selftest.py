"""``pytest --kora-selftest``: prove, in this environment, that every check catches its mutant.

Every shipped broken plugin and broken runtime is certified in a subprocess (the plugins in one
run, the runtimes in another, side by side) by the check it is there to break (the others are
deselected there: see :mod:`._selftest_filter`), and each becomes one test item asserting that its
check failed (a SHOULD check: warned). A MUST check without any mutant is a failing item too.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pytest

from kora_conformance.model._catalog import CATALOG, Check, by_id
from kora_conformance.mutants._table import MUTANTS, RUNTIME_MUTANTS, RuntimeMutant
from kora_conformance.run._items import SUITES_KEY, passage_or_none
from kora_conformance.run._selftest_filter import ONLY_ENV

__all__ = ["SelftestRun", "SelftestState", "start_selftest"]

Kind = Literal["plugin", "runtime"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One mutant and the check it must break."""

    check: Check
    mutant: str
    kind: Kind
    #: A plugin directory (plugin mutants) or ``module:factory`` (runtime mutants).
    location: str
    description: str


def _runtime_mutants() -> Sequence[RuntimeMutant]:
    return RUNTIME_MUTANTS


def cases() -> list[Case]:
    """Every shipped mutant, plugin then runtime, in catalog order of their checks."""
    found = [Case(by_id(m.check_id), m.name, "plugin", str(m.path), m.description) for m in MUTANTS]
    found += [
        Case(by_id(m.check_id), m.factory, "runtime", m.factory, m.description)
        for m in _runtime_mutants()
    ]
    order = {c.id: i for i, c in enumerate(CATALOG)}
    return sorted(found, key=lambda case: order[case.check.id])


class SelftestRun:
    """The subprocess certifications, run once, on first demand."""

    def __init__(self, all_cases: Sequence[Case], max_examples: int, jobs: int) -> None:
        self.cases = list(all_cases)
        self.max_examples = max_examples
        self.jobs = jobs
        self._reports: dict[str, dict[str, Any]] | None = None
        self.seconds = 0.0
        self.errors: dict[str, str] = {}

    def _certify(
        self, workdir: Path, key: str, index: int, args: list[str], only: list[list[str]]
    ) -> Path:
        report = workdir / f"run{index}.json"
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            "-p", "kora_conformance.run._selftest_filter",
            "--kora-conformance", "--kora-max-examples", str(self.max_examples),
            "--kora-report", str(report), *args,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env[ONLY_ENV] = json.dumps(only)
        done = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, check=False
        )
        if not report.is_file():
            self.errors[key] = (done.stdout + done.stderr)[-2000:]
        return report

    def reports(self) -> dict[str, dict[str, Any]]:
        """Run name (``plugins``, ``runtimes``) → its JSON report."""
        if self._reports is not None:
            return self._reports
        started = time.perf_counter()
        runs: list[tuple[str, list[str], list[list[str]]]] = []
        for kind, option in (("plugin", "--kora-plugin"), ("runtime", "--kora-runtime")):
            mine = [c for c in self.cases if c.kind == kind]
            if mine:
                args = [arg for c in mine for arg in (option, c.location)]
                runs.append((f"{kind}s", args, [[c.location, c.check.id] for c in mine]))
        reports: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory(prefix="kora-selftest-") as tmp:
            workdir = Path(tmp)
            with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
                futures = {
                    key: pool.submit(self._certify, workdir, key, i, args, only)
                    for i, (key, args, only) in enumerate(runs)
                }
                for key, future in futures.items():
                    path = future.result()
                    if path.is_file():
                        reports[key] = json.loads(path.read_text(encoding="utf-8"))
        self._reports = reports
        self.seconds = time.perf_counter() - started
        return self._reports

    def outcome(self, case: Case) -> tuple[str, str]:
        """``(outcome, message)`` of ``case.check`` on its mutant, or ``("error", why)``."""
        key = f"{case.kind}s"
        report = self.reports().get(key)
        if report is None:
            return "error", self.errors.get(key, "the certification wrote no report")
        for target in report["targets"]:
            if target["location"] == case.location:
                row = next(c for c in target["checks"] if c["id"] == case.check.id)
                return str(row["outcome"]), str(row["message"])
        return "error", f"the report has no target for {case.location}"


@dataclasses.dataclass
class SelftestState:
    run: SelftestRun
    rows: list[tuple[str, str, str, str]] = dataclasses.field(default_factory=list)


class CaseItem(pytest.Item):
    """Asserts that one mutant is caught by its check."""

    def __init__(self, *, case: Case | None, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.check = check
        self.user_properties.append(("kora_check", check.id))

    def runtest(self) -> None:
        state: SelftestState = self.config.stash[STATE_KEY]
        if self.case is None:
            state.rows.append((self.check.id, "-", "NO MUTANT", "a MUST check needs a mutant"))
            msg = f"{self.check.id} is a MUST check with no shipped mutant proving it can fail"
            raise AssertionError(msg)
        outcome, message = state.run.outcome(self.case)
        expected = "failed" if self.check.level == "MUST" else "warned"
        caught = outcome == expected
        state.rows.append(
            (self.check.id, self.case.mutant, "caught" if caught else "NOT CAUGHT", message)
        )
        if not caught:
            msg = (
                f"{self.check.id} did not catch its mutant {self.case.mutant} "
                f"({self.case.description}): expected {expected}, got {outcome}: {message}"
            )
            raise AssertionError(msg)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.check.id} vs {self.case.mutant if self.case else 'nothing'}"


class SelftestCollector(pytest.Directory):
    def collect(self) -> Iterator[pytest.Item]:
        all_cases = self.config.stash[STATE_KEY].run.cases
        for check in CATALOG:
            mine = [c for c in all_cases if c.check.id == check.id]
            for case in mine:
                name = f"{check.id}[{case.mutant}]"
                yield CaseItem.from_parent(self, name=name, case=case, check=check)
            if not mine and check.level == "MUST":
                yield CaseItem.from_parent(
                    self, name=f"{check.id}[no-mutant]", case=None, check=check
                )


STATE_KEY = pytest.StashKey[SelftestState]()


class SelftestHooks:
    def __init__(self, root: Path) -> None:
        self.root = root

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        if path == self.root:
            return SelftestCollector.from_parent(parent, path=path, nodeid="kora-selftest")
        return passage_or_none(path, parent)

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        state = config.stash[STATE_KEY]
        terminalreporter.section("kora self-test")
        terminalreporter.write_line(f"{'check':<10} {'mutant':<34} result")
        for check_id, mutant, result, _ in sorted(state.rows):
            terminalreporter.write_line(f"{check_id:<10} {mutant:<34} {result}")
        musts = {c.id for c in CATALOG if c.level == "MUST"}
        caught = {r[0] for r in state.rows if r[2] == "caught"}
        terminalreporter.write_line(
            f"{len(musts & caught)}/{len(musts)} MUST checks caught their mutant; "
            f"certifications took {state.run.seconds:.1f} s"
        )


def start_selftest(config: pytest.Config, root: Path) -> None:
    """Switch this pytest run into self-test mode.

    :raises pytest.UsageError: under pytest-xdist (``-n``): the self-test already certifies its
        mutants in parallel subprocesses, and its table is built in one process.
    """
    if getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        msg = (
            "kora-conformance: --kora-selftest runs its certifications in parallel itself and "
            "cannot be split across xdist workers; drop -n (or pass -n 0)"
        )
        raise pytest.UsageError(msg)
    jobs = max(1, min(4, os.cpu_count() or 1))
    run = SelftestRun(cases(), config.getoption("kora_max_examples"), jobs)
    config.stash[STATE_KEY] = SelftestState(run)
    config.pluginmanager.register(SelftestHooks(root), "kora-selftest")
    config.stash[SUITES_KEY] = root
    config.args[:] = [str(root)]
