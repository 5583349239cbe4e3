"""The checks bite: the kit certifies every shipped mutant, Marvin, Kora and the daemon example
plugin in one run.

One ``pytest --kora-conformance`` subprocess (module-scoped) certifies all of them, outside the
repository, and writes the JSON report; the tests read it. Each mutant must fail its own check
(a SHOULD mutant: warn) and nothing else beyond what its table row admits; the bundled plugins
must be conformant with every check of their areas passed and the others skipped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from kora_conformance.model._catalog import CATALOG, by_id
from kora_conformance.mutants._table import MUTANTS, MUTANTS_DIR, Mutant, mutant_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Bundled plugin → the areas whose checks it must pass; the other areas' checks skip.
CONFORMANT = {
    "marvin": ("PL", "ID"),
    "kora": ("PL", "ID"),
    "listener_example": ("PL", "DM"),
}
#: Plugin-check areas: every MUST check of them has a mutant.
AREAS = ("PL", "ID", "DM")
#: The Hermes-surface checks (tools, commands, callbacks, provides_*, v2 fields, providers,
#: skills): the bundled plugins register none of that and skip them;
#: tests/test_kit_surface_checks.py certifies plugins in upstream shapes that do.
SURFACE_CHECKS = frozenset({*(f"KC-PL-{n:03d}" for n in range(7, 18)), "KC-PL-021", "KC-PL-022"})


@dataclasses.dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    report: dict[str, Any]

    def target(self, name: str) -> dict[str, Any]:
        return next(t for t in self.report["targets"] if t["name"] == name)

    def outcomes(self, name: str) -> dict[str, str]:
        return {c["id"]: c["outcome"] for c in self.target(name)["checks"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("kit-mutants")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for mutant in MUTANTS:
        args += ["--kora-plugin", str(mutant.path)]
    for name in CONFORMANT:
        args += ["--kora-plugin", str(REPO_ROOT / "plugins" / name)]
    # Two workers: this is the suite's longest single run, and the kit's verdicts are the same
    # on any number of workers (tests/test_kit_ci.py).
    args += ["--kora-report", "r.json", "-n", "2"]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_", "PYTEST_"))
    }
    env["HOME"] = str(workdir)  # no ~/.kora fallback prompt from the machine
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    output = done.stdout + done.stderr
    report_path = workdir / "r.json"
    assert report_path.is_file(), output
    return Run(done.returncode, output, json.loads(report_path.read_text(encoding="utf-8")))


def _id(mutant: Mutant) -> str:
    return mutant.name


@pytest.mark.parametrize("mutant", MUTANTS, ids=_id)
def test_mutant_breaks_its_check(run: Run, mutant: Mutant) -> None:
    check = by_id(mutant.check_id)
    expected = "failed" if check.level == "MUST" else "warned"

    assert run.outcomes(mutant.name)[check.id] == expected, run.target(mutant.name)


@pytest.mark.parametrize("mutant", MUTANTS, ids=_id)
def test_mutant_breaks_nothing_else(run: Run, mutant: Mutant) -> None:
    broken = {
        check_id
        for check_id, outcome in run.outcomes(mutant.name).items()
        if outcome in {"failed", "warned"}
    }

    assert broken == {mutant.check_id, *mutant.also_breaks}, run.target(mutant.name)


@pytest.mark.parametrize("mutant", MUTANTS, ids=_id)
def test_mutant_verdict(run: Run, mutant: Mutant) -> None:
    target = run.target(mutant.name)
    label = f"{mutant.name} {target['version']}".strip()  # a broken manifest has no version

    if by_id(mutant.check_id).level == "MUST":
        assert target["verdict"] == "not-conformant"
        verdict = f"{label}: NOT CONFORMANT"
        line = next((x for x in run.output.splitlines() if x.startswith(verdict)), "")
        assert mutant.check_id in line, run.output
    else:
        assert target["verdict"] == "conformant"
        assert f"{label}: CONFORMANT (warnings: {mutant.check_id})" in run.output


@pytest.mark.parametrize("name", CONFORMANT)
def test_bundled_plugins_are_conformant_without_warnings(run: Run, name: str) -> None:
    target = run.target(name)
    outcomes = run.outcomes(name)

    assert target["verdict"] == "conformant"
    assert set(outcomes.values()) <= {"passed", "skipped"}, target
    own = [c.id for c in CATALOG if c.area in CONFORMANT[name] and c.id not in SURFACE_CHECKS]
    assert all(outcomes[check_id] == "passed" for check_id in own), target


@pytest.mark.parametrize("name", ["marvin", "kora"])
def test_plugins_without_daemons_skip_the_daemon_checks(run: Run, name: str) -> None:
    messages = {c["id"]: c["message"] for c in run.target(name)["checks"]}

    for check in (c for c in CATALOG if c.area == "DM"):
        assert run.outcomes(name)[check.id] == "skipped"
        assert "registers no background daemons" in messages[check.id]


def test_the_run_fails_and_reports_every_check_for_every_target(run: Run) -> None:
    assert run.returncode == 1, run.output
    assert run.report["verdict"] == "not-conformant"
    names = [t["name"] for t in run.report["targets"]]
    assert names == [m.name for m in MUTANTS] + list(CONFORMANT)
    for target in run.report["targets"]:
        assert [c["id"] for c in target["checks"]] == [c.id for c in CATALOG]


def test_failures_name_rule_expected_seen_and_fix(run: Run) -> None:
    assert "KC-ID-004 (MUST) Identity precedence: plugin 'id004_silences_kora' breaks" in run.output
    assert "second, after the Kora identity" in run.output
    assert "seen:     id004_silences_kora won" in run.output
    assert "seen:     1 attempt(s) blocked: 127.0.0.1:9" in run.output
    assert "(did you mean 'on_session_start'?)" in run.output
    assert f"  fix:      {by_id('KC-ID-003').fix}" in run.output


# Wins every mix of three or more plugins by jumping to the front of the identity hook: only the
# property part of KC-ID-004 sees it (alone, first and second it behaves).
QUEUE_JUMPER = """\
from reference_runtime import IDENTITY_HOOK, IdentitySpec, hookimpl
from reference_runtime._dispatch import Attributed

SPEC = IdentitySpec("", "jumper", {"agent_name": "jumper", "plugin_name": "jumper"})


def provider(*, engine=None, **kwargs):
    return SPEC


class Jump:
    @hookimpl(tryfirst=True, specname=IDENTITY_HOOK)
    def jump(self, context):
        return Attributed("jumper", {"identity": SPEC})


def register(ctx):
    ctx.register_identity_provider(provider)
    runtime = ctx._runtime
    if len(runtime.config.enabled) > 2:
        runtime.plugin_manager.register(Jump())
"""


def test_id004_property_prints_a_replayable_falsifying_example(tmp_path: Path) -> None:
    plugin = tmp_path / "plugins" / "jumper"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text("name: jumper\nhooks: [pre_agent_identity_set]\n")
    (plugin / "__init__.py").write_text(QUEUE_JUMPER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    args += ["--kora-plugin", str(plugin), "--kora-seed", "7", "-k", "KC-ID-004"]

    done = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    output = done.stdout
    assert done.returncode == 1, output
    assert "seen:     jumper won" in output
    assert "falsifying example: plugins.enabled = [" in output
    assert "the plugin under test" in output
    assert "replay it with: --kora-seed 7 -k KC-ID-004" in output


def test_daemon_failures_say_what_and_where(run: Run) -> None:
    assert "interval_seconds 0.0, not > 0" in run.output
    assert "start_worker(coordinator: 'Any') -> 'None' cannot be called as startup()" in run.output
    assert "the listener side's is hermes_plugins.dm003_two_instances.Poller.startup" in run.output
    assert "a fresh runtime got daemons ['sync.worker-2']" in run.output
    assert "shutdown of 'outbox': shutdown did not finish within 2 s" in run.output
    assert "interrupted in poll (" in run.output
    assert "dm005_blocking_poll" + os.sep + "__init__.py:" in run.output
    assert "also runs from task 'mailbox.fetch.listener'" in run.output
    assert "pure-periodic daemon 'janitor'" in run.output


def test_every_must_plugin_check_has_a_mutant() -> None:
    covered = {m.check_id for m in MUTANTS}
    musts = {c.id for c in CATALOG if c.area in AREAS and c.level == "MUST"}

    assert musts <= covered, sorted(musts - covered)


def test_mutant_directories_match_the_table() -> None:
    on_disk = sorted(
        p.name for p in MUTANTS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    )

    assert on_disk == sorted(m.name for m in MUTANTS)
    for mutant in MUTANTS:
        assert mutant_dir(mutant.name) == mutant.path
        if not (mutant.path / "plugin.yaml").is_file():
            _assert_entry_point_project(mutant)
            continue
        manifest = yaml.safe_load((mutant.path / "plugin.yaml").read_text(encoding="utf-8"))
        source = (mutant.path / "__init__.py").read_text(encoding="utf-8")
        assert mutant.check_id in source.split('"""')[1], "the docstring names the check"
        assert manifest["name"] == mutant.name


def _assert_entry_point_project(mutant: Mutant) -> None:
    """A mutant that is a project: it declares one entry point, named as the mutant, to a
    package whose docstring names the check."""
    project = tomllib.loads((mutant.path / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {
        name: value
        for group in project["project"]["entry-points"].values()
        for name, value in group.items()
    }
    assert list(declared) == [mutant.name]
    package = declared[mutant.name].partition(":")[0]
    source = next(mutant.path.rglob(f"{package}/__init__.py")).read_text(encoding="utf-8")
    assert mutant.check_id in source.split('"""')[1], "the docstring names the check"


def test_unknown_mutant_names_are_refused() -> None:
    with pytest.raises(KeyError, match="known mutants: pl001_no_register"):
        mutant_dir("no_such_mutant")
