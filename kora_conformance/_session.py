"""A certification run: the state and the pytest hooks active under ``--kora-conformance``.

Everything here is imported only when the option is given, so the pytest plugin costs nothing
in ordinary test runs.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from reference_runtime import Runtime, find_manifest
from reference_runtime import __version__ as runtime_version

from . import __version__ as KIT_VERSION
from ._adapter import RuntimeAdapter, load_adapter, reference_adapter
from ._artifacts import badge_json, render_summary, write_text
from ._check import Implementation, KitOptions, Profile
from ._errors import CheckFailed, TargetError
from ._exemptions import Exemption, load_exemptions
from ._items import ROOT_NODEID, SUITES_KEY, CheckItem, SuitesCollector, passage_or_none
from ._results import Results, annotate_report
from ._sandbox import sandbox
from ._suites import implementations, suites_dir
from ._targets import Target, resolve_targets

__all__ = ["KitState", "start"]


def _profile(target: Target) -> Profile:
    if target.route == "runtime":
        return Profile(True)
    manifest = find_manifest(target.plugin_dir) if target.plugin_dir is not None else None
    with sandbox() as box, target.installed(box.scratch):
        report = Runtime(target.config()).load()
        plugin = report.plugin(target.name)
        if plugin is None:
            error = report.errors.get(target.name, "not found")
            return Profile(False, load_error=error, manifest_path=manifest)
        return Profile(
            True,
            manifest_path=manifest,
            hook_names=plugin.hook_names,
            identity_providers=len(plugin.identity_providers),
            daemons=len(plugin.daemons),
            listeners=len(plugin.listeners),
        )


def _exemptions_for(target: Target, cwd: Path) -> list[Exemption]:
    """Exemptions from the target's own project and from the invocation directory's project."""
    files = [cwd / "pyproject.toml"]
    for directory in (target.plugin_dir, target.project_dir):
        if directory is not None and (directory / "pyproject.toml") not in files:
            files.append(directory / "pyproject.toml")
    return [
        e
        for e in load_exemptions(dict.fromkeys(p.resolve() for p in files))
        if e.target in {"", target.name}
    ]


class KitState:
    """What one certification run knows: targets, options, implementations and results."""

    def __init__(
        self,
        targets: list[Target],
        how: str,
        options: KitOptions,
        gate: str,
        report_path: Path | None,
        *,
        summary_path: Path | None = None,
        badge_path: Path | None = None,
        exemptions: dict[str, list[Exemption]] | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.targets = targets
        self.how = how
        self.options = options
        self.gate = gate
        self.report_path = report_path
        self.summary_path = summary_path
        self.badge_path = badge_path
        self.implementations: dict[str, Implementation] = implementations()
        self.exemptions = exemptions or {}
        self.today = today or dt.date.today()
        self.results = Results(targets, self.exemptions)
        self._profiles: dict[str, Profile] = {}
        #: Runtime target name → its adapter.
        self.adapters: dict[str, RuntimeAdapter] = {}

    def exemption(self, target: Target, check_id: str) -> Exemption | None:
        """The exemption declared for ``check_id`` on ``target``, if any."""
        return next((e for e in self.exemptions.get(target.name, []) if e.check == check_id), None)

    def exemption_problem(self, exemption: Exemption) -> str | None:
        """Why ``exemption`` cannot be honoured today, or ``None``."""
        return exemption.problem(today=self.today, kit_version=KIT_VERSION)

    def profile(self, target: Target) -> Profile:
        """What ``target`` registers; learnt on first use and cached for the run."""
        if target.name not in self._profiles:
            self._profiles[target.name] = _profile(target)
        return self._profiles[target.name]


class KitHooks:
    """The pytest hooks of a certification run."""

    def __init__(self, config: pytest.Config, state: KitState) -> None:
        self.config = config
        self.state = state
        self.suites = suites_dir()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        if path == self.suites:
            collector = SuitesCollector.from_parent(parent, path=path, nodeid=ROOT_NODEID)
            collector.state = self.state
            return collector
        return passage_or_none(path, parent)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if isinstance(item, CheckItem):
            annotate_report(report, call, warning=item.warning, exempted=item.exempted)
            error = call.excinfo.value if call.excinfo is not None else None
            if report.failed and isinstance(error, CheckFailed):
                report.sections = _without_repeats(report.sections, str(error))
        return report

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
        if hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        state = self.state
        if state.results.stopped is None and (session.shouldfail or session.shouldstop):
            state.results.stopped = (
                f"the run stopped early: {session.shouldfail or session.shouldstop}"
            )
        incomplete = any(state.results.verdict(t) == "incomplete" for t in state.targets)
        if incomplete and session.exitstatus == pytest.ExitCode.OK:
            # A partial run certifies nothing; its exit status must not say it did.
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
    max_examples = config.getoption("kora_max_examples")
    if max_examples < 1:
        msg = "kora-conformance: --kora-max-examples must be at least 1"
        raise pytest.UsageError(msg)
    cwd = Path(config.invocation_params.dir)
    try:
        exemptions = {t.name: _exemptions_for(t, cwd) for t in targets}
    except TargetError as exc:
        msg = f"kora-conformance: {exc}"
        raise pytest.UsageError(msg) from None
    report: str | None = config.getoption("kora_report")
    state = KitState(
        targets,
        how,
        KitOptions(max_examples=max_examples, seed=seed),
        config.getoption("kora_gate"),
        Path(report).resolve() if report else None,
        exemptions=exemptions,
        summary_path=_path_option(config, "kora_summary"),
        badge_path=_path_option(config, "kora_badge"),
    )
    state.adapters.update(adapters)
    if not _is_xdist_controller(config):
        # The wire check needs the SDK; importing it before any sandbox opens keeps it loaded
        # for the whole run instead of once per check. An xdist controller runs no check.
        import anthropic  # noqa: F401, PLC0415
        from hypothesis.configuration import set_hypothesis_home_dir  # noqa: PLC0415

        # Hypothesis keeps caches under ./.hypothesis; a certification writes nothing into the
        # directory it is run from.
        scratch = tempfile.mkdtemp(prefix="kora-run-")
        set_hypothesis_home_dir(scratch)
        config.add_cleanup(lambda: shutil.rmtree(scratch, ignore_errors=True))

    config.pluginmanager.register(KitHooks(config, state), "kora-conformance-session")
    if config.pluginmanager.hasplugin("xdist") and workerinput is None:
        config.pluginmanager.register(_XdistHooks(seed), "kora-conformance-xdist")
    config.stash[SUITES_KEY] = suites_dir()
    config.args[:] = [str(suites_dir())]
