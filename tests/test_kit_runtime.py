"""Runtime certification: the reference runtime is clean, every broken runtime is caught.

The reference runtime's runs are in-process (pytester), each writing the JSON report the tests
read. The broken runtimes are the shipped ones
(:data:`kora_conformance.mutants._table.RUNTIME_MUTANTS`), certified together in one subprocess
run, each a target of its own; each must fail its own check (a SHOULD one: warn) and no other
runtime check.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
import subprocess
import sys
from typing import Any

# Imported here so they stay loaded across the in-process runs: pytester drops the modules a run
# imports first, and re-importing the SDK would cost most of a second per run. The kit's session
# (which caches the loaded suites) and the probes' journal stay together, so the suites and the
# probes of every run share one journal.
import anthropic  # noqa: F401
import freezegun  # noqa: F401
import hypothesis  # noqa: F401
import pytest
import pytest_httpx2  # noqa: F401
import respx  # noqa: F401

import reference_runtime  # noqa: F401
from kora_conformance.model._catalog import CATALOG, by_id
from kora_conformance.mutants._table import RUNTIME_MUTANTS, RuntimeMutant

pytest_plugins = ["pytester"]

RUNTIME_CHECKS = [c.id for c in CATALOG if c.scope == "runtime"]
REFERENCE = "kora_conformance:reference_adapter"

#: What each broken runtime's failure says it saw (its report message contains this).
SEEN: dict[str, str] = {
    "set_ordering": "probe_alpha's identity won",
    "naive_providers": "resolve_identity raised RuntimeError: probe_raises",
    "ignores_prompt_env": "default-prompt.md was read instead",
    "module_form_only": "probe_ep_callable (module:register form",
    "no_rollback": "probe_half_register's identity won, not probe_zulu's; "
    "probe_half_register's on_session_start hook was invoked; "
    "probe_half_register's daemon kc_probe.half is still registered",
    "swallowing_registry": "probe_dm_claim_second loaded without error",
    "fifo_shutdown": "shutdowns in the order ['kc_probe.rec_c', 'kc_probe.rec_a', "
    "'kc_probe.hang'], expected ['kc_probe.hang', 'kc_probe.rec_a', 'kc_probe.rec_c']",
    "ignores_fatal": "kc_probe.fatal_never was started after the fatal failure of kc_probe.fatal",
    "early_drivers": "a periodic task fired (kc_probe.rec_c) before every startup had finished",
    "late_driver_cancel": "a periodic task fired after the first shutdown began",
    "hook_fired_twice": "probe_declines's provider was called 4 times for 2 engine",
    "hook_without_engine": "engine=None, not the engine build_engine returned",
    "anonymous_identity": "source='plugin', plugin=None seen",
    "persona_not_sent": "the persona is missing",
    # Broken runtimes an earlier, narrower version of their check let through.
    "directories_first": "kcg_bravo's identity won, not kcg_charlie's",
    "consults_all": "providers after the winner kcg_charlie were consulted",
    "unattributed_warnings": "no WARNING names the skipped plugin kci_mike (raises)",
    "unawaited_providers": "kci_november: async_claims) resolve_identity raised",
    "missing_env_falls_through": "default-prompt.md) (fail closed",
    "register_by_name": "the runtime called the module's register, not setup_plugin",
    "keeps_listeners": "kcr_half's listener kc_gen_kcr_half still registered",
    "owner_only_comparison": "kcd_clash loaded, keeping 1 entry",
    # Either the next shutdown begins early or the hung one is abandoned before it begins.
    "no_shutdown_wait": "kc_probe.hang",
    "stops_at_raising_shutdown": "every one shut down even after one raised",
    "resolves_per_request": "called 5 times for 3 engine constructions, then 2 requests",
    "default_path_reported": "/default-prompt.md' seen",
    "persona_first_request_only": "the persona is missing (request 2 of engine 1)",
    # Broken runtimes written for the gaps generated mutants found.
    "first_root_wins": "expected only root_b's",
    "hooks_never_awaited": "callbacks returned",
    "exiting_provider_escapes": "resolve_identity raised SystemExit",
    "mapping_envelopes_claim": "won, not kcw_good's envelope",
    "entry_points_all_or_nothing": "kcu_alpha, a good entry point",
    "unexplained_missing": "the entry passed over and why",
    "ignores_import_registrations": "daemon names: []",
    "ignores_late_registrations": "invoke_hook('on_session_end')",
    "adopts_every_default": "runs in a runtime that does not load",
    "daemons_only_coordinator": "kc_gen_only, which has no entry",
    "no_listener_side_tasks": "kc_gen_multi.rollup fired 0 times",
    "plugin_chooses_exit_status": "exit status 7, expected 1",
    "periodic_exit_swallowed": "on its first fire",
    "identity_first_request_only": "request 2 of engine 1",
    "blank_persona_block": "blank text block",
    "mutable_spec_metadata": "setting a metadata key succeeded",
}


def certify(
    pytester: pytest.Pytester, runtime: str | None, *args: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Certify ``runtime`` (the built-in reference runtime when ``None``); the run and report."""
    command = ["--kora-conformance", "-p", "no:cacheprovider", "--kora-report", "r.json", *args]
    if runtime is not None:
        command += ["--kora-runtime", runtime]
    result = pytester.runpytest(*command)
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    return result, report


def runtime_target(report: dict[str, Any]) -> dict[str, Any]:
    (target,) = [t for t in report["targets"] if t["route"] == "runtime"]
    return target


def runtime_outcomes(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["id"]: c for c in runtime_target(report)["checks"] if c["id"] in RUNTIME_CHECKS}


def test_reference_runtime_certifies_clean(pytester: pytest.Pytester) -> None:
    # No plugin named, none in the current directory: the kit certifies the reference runtime.
    result, report = certify(pytester, None)

    assert result.ret == 0, result.stdout.str()
    target = runtime_target(report)
    assert target["name"] == "reference_runtime"
    assert target["verdict"] == "conformant"
    outcomes = runtime_outcomes(report)
    assert {k: v["outcome"] for k, v in outcomes.items()} == dict.fromkeys(
        RUNTIME_CHECKS, "passed"
    ), outcomes
    result.stdout.fnmatch_lines(["reference_runtime 0.1.0: CONFORMANT"])


def _id(mutant: RuntimeMutant) -> str:
    return mutant.name


@dataclasses.dataclass(frozen=True)
class BrokenRun:
    """One certification of every broken runtime together (``--kora-runtime`` repeated)."""

    returncode: int
    lines: list[str]
    report: dict[str, Any]

    def target(self, name: str) -> dict[str, Any]:
        (target,) = [t for t in self.report["targets"] if t["name"] == name]
        return target


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> BrokenRun:
    """Every shipped broken runtime, certified in one run: each is a target of its own, so
    its outcomes are its own, and one process start serves all of them."""
    workdir = tmp_path_factory.mktemp("broken-runtimes")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for mutant in RUNTIME_MUTANTS:
        args += ["--kora-runtime", mutant.factory]
    args += ["--kora-report", "r.json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    path = workdir / "r.json"
    assert path.is_file(), done.stdout + done.stderr
    report = json.loads(path.read_text(encoding="utf-8"))
    return BrokenRun(done.returncode, done.stdout.splitlines(), report)


@pytest.mark.parametrize("mutant", RUNTIME_MUTANTS, ids=_id)
def test_broken_runtime_is_caught_by_its_check(broken: BrokenRun, mutant: RuntimeMutant) -> None:
    check = by_id(mutant.check_id)
    expected = "failed" if check.level == "MUST" else "warned"

    target = broken.target(mutant.name)
    outcomes = {c["id"]: c for c in target["checks"] if c["id"] in RUNTIME_CHECKS}
    assert outcomes[check.id]["outcome"] == expected, outcomes
    assert SEEN[mutant.name] in outcomes[check.id]["message"]
    found = {k for k, v in outcomes.items() if v["outcome"] != "passed"}
    assert found == {check.id, *mutant.also_breaks}, outcomes
    if check.level == "MUST":
        assert target["verdict"] == "not-conformant"
        breaks = {check.id, *mutant.also_breaks}
        failed = ", ".join(c.id for c in CATALOG if c.id in breaks and c.level == "MUST")
        line = f"{mutant.name} 0.1.0: NOT CONFORMANT*MUST check* failed: {failed}"
    else:
        assert target["verdict"] == "conformant"
        line = f"{mutant.name} 0.1.0: CONFORMANT (warnings: {check.id})"
    assert fnmatch.filter(broken.lines, line), line


def test_a_run_with_a_broken_runtime_fails(broken: BrokenRun) -> None:
    assert broken.returncode == 1


def test_the_three_broken_runtimes_of_the_issue_are_shipped() -> None:
    by_name = {m.name: m.check_id for m in RUNTIME_MUTANTS}

    assert by_name["set_ordering"] == "KC-RT-001"
    assert by_name["swallowing_registry"] == "KC-RT-006"
    assert by_name["fifo_shutdown"] == "KC-RT-007"


def test_every_runtime_check_has_a_broken_runtime() -> None:
    assert {m.check_id for m in RUNTIME_MUTANTS} == set(RUNTIME_CHECKS)
    assert set(SEEN) == {m.name for m in RUNTIME_MUTANTS}


def test_failure_message_shows_rule_expected_seen_and_journal(pytester: pytest.Pytester) -> None:
    result, _ = certify(pytester, "kora_conformance.mutants.runtimes:fifo_shutdown")

    result.stdout.fnmatch_lines(
        [
            "*KC-RT-007 (MUST) Coordinator lifecycle: runtime 'fifo_shutdown' breaks the rule",
            "*expected: probe_dm_lifecycle: FIFO start;*LIFO shutdown*",
            "*seen:     shutdowns in the order*",
            "*journal:*",
            "*t=+0.000s startup kc_probe.rec_c",
        ]
    )


ADAPTERS = """
from kora_conformance import ReferenceAdapter


def future_protocol():
    adapter = ReferenceAdapter(name="future")
    adapter.protocol_version = 2
    return adapter


def broken_factory():
    raise RuntimeError("no runtime here")
"""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("kct_adapters", "*'kct_adapters' must be 'module:factory'*"),
        ("kct_no_such_module:adapter", "*cannot import the factory (ModuleNotFoundError*"),
        ("kct_adapters:no_such_factory", "*cannot import the factory (AttributeError*"),
        ("kora_conformance:__version__", "*names a str, not a factory*"),
        ("kct_adapters:broken_factory", "*the factory raised RuntimeError: no runtime here*"),
        (
            "reference_runtime:BackgroundDaemonRegistry",
            "*returned BackgroundDaemonRegistry, which lacks the RuntimeAdapter attributes*",
        ),
        ("kct_adapters:future_protocol", "*implements adapter protocol 2; this kit speaks*1*"),
    ],
)
def test_bad_runtime_spec_is_a_usage_error(
    pytester: pytest.Pytester, spec: str, message: str, isolated_imports: None
) -> None:
    pytester.makepyfile(kct_adapters=ADAPTERS)
    pytester.syspathinsert()

    result = pytester.runpytest("--kora-conformance", "--kora-runtime", spec)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: kora-conformance: --kora-runtime {message}"])


def test_runtime_only_from_an_empty_directory(pytester: pytest.Pytester) -> None:
    result, report = certify(pytester, REFERENCE)

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert [t["route"] for t in report["targets"]] == ["runtime"]
    result.stdout.fnmatch_lines(
        ["*certifying reference_runtime 0.1.0 (runtime: " + REFERENCE + ")"]
    )
