"""A certification run: the pytest hooks active under ``--kora-conformance``, and its start.

Everything here is imported only when the option is given, so the pytest plugin costs nothing
in ordinary test runs.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from kora_conformance import __version__ as KIT_VERSION
from kora_conformance._errors import CheckFailed, TargetError
from kora_conformance.adapter import RuntimeAdapter, load_adapter, reference_adapter
from kora_conformance.isolation._child import start_server
from kora_conformance.model._check import KitOptions
from kora_conformance.model._suites import suites_dir
from kora_conformance.model._targets import Target, resolve_targets
from kora_conformance.run._artifacts import badge_json, render_summary, write_text
from kora_conformance.run._findings import annotate_report
from kora_conformance.run._items import (
    ROOT_NODEID,
    RUN_STATE_KEY,
    SUITES_KEY,
    CheckItem,
    SuitesCollector,
    passage_or_none,
)
from kora_conformance.run._state import KitState, declared_exemptions
from reference_runtime import __version__ as runtime_version

__all__ = ["start"]


class KitHooks:
    """The pytest hooks of a certification run."""

    def __init__(self, config: pytest.Config, state: KitState) -> None:
        self.config = config
        self.state = state
        self.suites = suites_dir()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        if path == self.suites:
            return SuitesCollector.from_parent(parent, path=path, nodeid=ROOT_NODEID)
        return passage_or_none(path, parent)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if isinstance(item, CheckItem):
            annotate_report(
                report,
                call,
                warning=item.warning,
                exempted=item.exempted,
                elapsed=item.elapsed,
                note=item.note,
            )
            error = call.excinfo.value if call.excinfo is not None else None
            if report.failed and isinstance(error, CheckFailed):
                report.sections = _without_repeats(report.sections, str(error))
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.state.ahead is None:
            return
        planned: dict[str, list[str]] = {}
        for item in items:
            if isinstance(item, CheckItem):
                planned.setdefault(item.target.name, []).append(item.check.id)
        for target, check_ids in planned.items():
            self.state.ahead.plan(target, check_ids)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            if isinstance(item, CheckItem):
                self.state.results.deselected.add((item.target.name, item.check.id))

    def pytest_keyboard_interrupt(self) -> None:
        self.state.results.stopped = "interrupted"

    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        if report.when != "call":
            return None
        if ("kora_outcome", "warned") in report.user_properties:
            return "warned", "W", ("WARNED", {"yellow": True})
        if ("kora_outcome", "exempted") in report.user_properties:
            return "exempted", "e", ("EXEMPTED", {"yellow": True})
        if report.skipped and ("kora_outcome", "skipped") in report.user_properties:
            # A skip is the kit's decision that the check does not apply, summarised in the
            # table by reason; it is not a test skip for "-rs" to list again.
            return "not applicable", "-", ("N/A", {"yellow": False})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.state.results.record(report)

    def pytest_report_header(self) -> list[str]:
        lines = [
            f"kora-conformance {KIT_VERSION}, contract level 1",
            f"  targets {self.state.how}:",
        ]
        for t in self.state.targets:
            lines.append(f"    certifying {t.label} ({t.route}: {t.location})")
        lines.append(f"  gate: {self.state.gate}; hypothesis seed: {self.state.options.seed}")
        lines += [f"  warning: {w}" for w in self.state.warnings]
        return lines

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.config.option.collectonly:
            return  # nothing ran, so there is nothing to judge
        results = self.state.results
        terminalreporter.section("kora conformance")
        for target in self.state.targets:
            terminalreporter.write_line(f"{target.label} ({target.route}: {target.location})")
            for line, outcome in results.table(target):
                terminalreporter.write_line("  " + line, **_MARKUP.get(outcome or "", {}))
            terminalreporter.write_line("")
        for target in self.state.targets:
            verdict = results.verdict(target)
            terminalreporter.write_line(results.verdict_line(target), bold=True, **_MARKUP[verdict])
            if (basis := results.basis_line(target)) is not None:
                terminalreporter.write_line(f"  {basis}")
        for label, path in (
            ("report", self.state.report_path),
            ("summary", self.state.summary_path),
            ("badge", self.state.badge_path),
        ):
            if path is not None:
                terminalreporter.write_line(f"{label} written to {path}")

    def _runtime_section(self) -> dict[str, str]:
        for target in self.state.targets:
            if target.route == "runtime":
                return {"name": target.name, "version": target.version}
        return {"name": "reference_runtime", "version": runtime_version}

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.state.ahead is not None:
            self.state.ahead.close()
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        state = self.state
        if state.results.stopped is None and (session.shouldfail or session.shouldstop):
            state.results.stopped = (
                f"the run stopped early: {session.shouldfail or session.shouldstop}"
            )
        uncertified = {"incomplete", "nothing-checked"}
        incomplete = any(state.results.verdict(t) in uncertified for t in state.targets)
        if incomplete and session.exitstatus == pytest.ExitCode.OK:
            # A partial run, or one whose checks examined none of what a plugin registered,
            # certifies nothing; its exit status must not say it did.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        runtime = self._runtime_section()
        if state.report_path is not None:
            state.results.write_json(
                state.report_path,
                kit_version=KIT_VERSION,
                runtime=runtime,
                seed=state.options.seed,
            )
        if state.summary_path is not None:
            summary = render_summary(state.results, kit_version=KIT_VERSION, runtime=runtime)
            write_text(state.summary_path, summary)
        if state.badge_path is not None:
            write_text(state.badge_path, badge_json(state.results))


def _without_repeats(sections: list[tuple[str, str]], failure: str) -> list[tuple[str, str]]:
    """Captured-log sections without the lines the failure message already says."""
    kept = []
    for title, content in sections:
        if title.startswith("Captured log"):
            lines = [
                line
                for line in dict.fromkeys(content.splitlines())
                if line.split(" ", 2)[-1].split(" ", 1)[-1] not in failure
            ]
            if lines:
                kept.append((title, "\n".join(lines)))
        else:
            kept.append((title, content))
    return kept


_MARKUP: dict[str, dict[str, bool]] = {
    "failed": {"red": True},
    "warned": {"yellow": True},
    "exempted": {"yellow": True},
    "not-run": {"yellow": True},
    "conformant": {"green": True},
    "not-conformant": {"red": True},
    "needs-host": {"blue": True},
    "incomplete": {"yellow": True},
    "nothing-checked": {"yellow": True},
}


class _XdistHooks:
    """Hands the controller's seed to every worker, so all of them draw the same examples."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["kora_seed"] = self.seed


def _is_xdist_controller(config: pytest.Config) -> bool:
    if hasattr(config, "workerinput"):
        return False
    workers = getattr(config.option, "numprocesses", None)
    return bool(workers) and getattr(config.option, "dist", "no") != "no"


#: The most examples a property-based check may be asked for.
MAX_EXAMPLES = 10_000


def _unwritable(path: Path | None) -> str | None:
    """Why an artifact cannot be written to ``path`` (checked before the run), or ``None``."""
    if path is None:
        return None
    if path.is_dir():
        return f"{path} is a directory; name a file"
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if parent is None or not parent.is_dir():
        return f"{path}: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path}: {parent} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    return None


def _path_option(config: pytest.Config, name: str) -> Path | None:
    value: str | None = config.getoption(name)
    return Path(value).resolve() if value else None


def _targets(config: pytest.Config) -> tuple[list[Target], str, dict[str, RuntimeAdapter]]:
    """The run's targets, how they were found, and the adapters of its runtime targets.

    :raises TargetError: a named plugin or runtime cannot be found or loaded.
    """
    cwd = Path(config.invocation_params.dir)
    values: list[str] = config.getoption("kora_plugin") or []
    runtime_specs: list[str] = config.getoption("kora_runtime") or []
    try:
        targets, how = resolve_targets(values, cwd)
    except TargetError:
        if values:
            raise
        # No plugin named and none here: the run certifies a runtime only (the reference one
        # unless --kora-runtime names others).
        targets = []
        how = f"no plugin named or found in {cwd}; pass --kora-plugin DIR|NAME to certify a plugin"
    adapters: dict[str, RuntimeAdapter] = {}
    runtimes = [(spec, load_adapter(spec, cwd)) for spec in runtime_specs]
    if not runtimes and not targets:
        runtimes = [("kora_conformance:reference_adapter (built in)", reference_adapter())]
    for spec, adapter in runtimes:
        if adapter.name in adapters or any(t.name == adapter.name for t in targets):
            msg = f"two targets are named {adapter.name!r}; give each runtime adapter its own name"
            raise TargetError(msg)
        adapters[adapter.name] = adapter
        targets.append(Target(adapter.name, adapter.version, "runtime", spec, adapter=spec))
    return targets, how, adapters


def start(config: pytest.Config) -> None:
    """Switch this pytest run into certification mode."""
    try:
        targets, how, adapters = _targets(config)
    except TargetError as exc:
        msg = f"kora-conformance: {exc}"
        raise pytest.UsageError(msg) from None
    workerinput = getattr(config, "workerinput", None)
    seed = config.getoption("kora_seed")
    if workerinput is not None and "kora_seed" in workerinput:
        seed = workerinput["kora_seed"]
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    timeout = config.getoption("kora_timeout")
    if not timeout > 0:
        msg = "kora-conformance: --kora-timeout must be a positive number of seconds"
        raise pytest.UsageError(msg)
    max_examples = config.getoption("kora_max_examples")
    if not 1 <= max_examples <= MAX_EXAMPLES:
        msg = (
            f"kora-conformance: --kora-max-examples must be from 1 to {MAX_EXAMPLES} (each "
            "example is a full plugin load; more adds minutes, not assurance)"
        )
        raise pytest.UsageError(msg)
    for option in ("kora_report", "kora_summary", "kora_badge"):
        if (problem := _unwritable(_path_option(config, option))) is not None:
            flag = "--" + option.replace("_", "-")
            msg = f"kora-conformance: {flag} {problem}"
            raise pytest.UsageError(msg)
    cwd = Path(config.invocation_params.dir)
    try:
        exemptions, exemption_warnings = declared_exemptions(targets, cwd)
    except TargetError as exc:
        msg = f"kora-conformance: {exc}"
        raise pytest.UsageError(msg) from None
    report: str | None = config.getoption("kora_report")
    state = KitState(
        targets,
        how,
        KitOptions(max_examples=max_examples, seed=seed, timeout=timeout),
        config.getoption("kora_gate"),
        Path(report).resolve() if report else None,
        exemptions=exemptions,
        summary_path=_path_option(config, "kora_summary"),
        badge_path=_path_option(config, "kora_badge"),
        timeout=timeout,
        # Under xdist the workers are the parallelism, and each sees only some of a target's
        # items; otherwise a target's checks run side by side, one per core.
        jobs=1 if workerinput is not None else min(4, os.cpu_count() or 1),
    )
    state.adapters.update(adapters)
    state.warnings.extend(exemption_warnings)
    config.add_cleanup(lambda: shutil.rmtree(state.scratch, ignore_errors=True))
    if not _is_xdist_controller(config):
        # Checks run in children of a fork server that imports hypothesis and the suites once;
        # starting it now overlaps that with collection. The SDK the wire checks drive (seconds
        # to import) is preloaded too when a runtime is certified, or when the run has several
        # targets, where the identity plugins among them would each import it in a check's
        # process; one or two plugins do better without: every check waits for the preload,
        # and only an identity plugin's wire check needs it. An xdist controller runs no check.
        start_server(wire=len(targets) > 2 or any(t.route == "runtime" for t in targets))

    config.pluginmanager.register(KitHooks(config, state), "kora-conformance-session")
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        config.pluginmanager.register(_XdistHooks(seed), "kora-conformance-xdist")
    config.stash[RUN_STATE_KEY] = state
    config.stash[SUITES_KEY] = suites_dir()
    config.args[:] = [str(suites_dir())]
