"""First contact: a run that does not depend on the invoking project, and verdicts that state
their scope (a partial run is INCOMPLETE, never CONFORMANT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jsonschema
import pytest

from kora_conformance._cli import explain, main
from kora_conformance.model._catalog import CATALOG

pytest_plugins = ["pytester"]

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "kora_conformance" / "report.schema.json").read_text()
)
#: A plugin that registers one session hook (a plugin registering nothing fails KC-PL-018).
GOOD = "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n"
TYPO_HOOK = "def register(ctx):\n    ctx.register_hook('on_sesion_start', lambda **kw: None)\n"


def write_plugin(root: Path, name: str, body: str = GOOD) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    hooks = "[on_session_start]" if "register_hook('on_session_start'" in body else "[]"
    (directory / "plugin.yaml").write_text(f"name: {name}\nversion: 1.0.0\nhooks: {hooks}\n")
    (directory / "__init__.py").write_text(textwrap.dedent(body))
    return directory


def kit_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KORA_"))}
    env["HOME"] = str(home)
    return env


def read(path: Path) -> dict:
    report = json.loads(path.read_text())
    jsonschema.validate(report, SCHEMA)
    return report


def test_the_report_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_a_plugin_repository_with_its_own_pytest_setup_certifies(tmp_path: Path) -> None:
    # Its conftest imports a dev-only package, warnings are errors, and addopts drop xdist: none
    # of that is the contract, so none of it may change the verdict.
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "conftest.py").write_text("import a_dev_only_package_not_installed\n")
    (repo / "conftest.py").write_text("raise RuntimeError('the root conftest was imported')\n")
    (repo / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\nfilterwarnings = ["error"]\n'
        'addopts = "-q -p no:xdist --strict-markers -x -k nothing_matches"\n'
        'python_files = ["*.py"]\n'
    )
    write_plugin(
        repo,
        "warny",
        "import warnings\n\ndef register(ctx):\n"
        "    warnings.warn('old API', DeprecationWarning, stacklevel=2)\n" + GOOD.split("\n", 1)[1],
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--kora-conformance", "--kora-plugin", "warny"],
        cwd=repo, env=kit_env(tmp_path), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warny 1.0.0: CONFORMANT" in done.stdout
    # Nothing written into the project it was run from.
    assert sorted(p.name for p in repo.iterdir()) == [
        "conftest.py",
        "pyproject.toml",
        "tests",
        "warny",
    ]
    assert sorted(p.name for p in (repo / "warny").iterdir() if p.name != "__pycache__") == [
        "__init__.py",
        "plugin.yaml",
    ]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["-k", "KC-PL"], id="-k"),
        pytest.param(["--deselect", "kora-conformance::goodplug::KC-PL-003"], id="--deselect"),
    ],
)
def test_a_partial_run_is_incomplete(pytester: pytest.Pytester, args: list[str]) -> None:
    write_plugin(pytester.path, "goodplug")
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--kora-report", "r.json",
        "--kora-badge", "badge.json", "--kora-summary", "s.md", *args,
    )  # fmt: skip
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*goodplug 1.0.0: INCOMPLETE — * checks did not run (deselected)*"]
    )
    assert "CONFORMANT" not in result.stdout.str().replace("NOT CONFORMANT", "")
    report = read(pytester.path / "r.json")
    assert report["verdict"] == report["targets"][0]["verdict"] == "incomplete"
    not_run = [c for c in report["targets"][0]["checks"] if c["outcome"] == "not-run"]
    assert not_run
    assert all(c["message"] == "deselected" for c in not_run)
    badge = json.loads((pytester.path / "badge.json").read_text())
    assert (badge["color"], badge["message"]) == ("lightgrey", "incomplete L1")
    assert (pytester.path / "s.md").read_text().startswith("# Kora conformance: INCOMPLETE")


def test_stopping_at_the_first_failure_is_incomplete(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "typo", TYPO_HOOK)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "typo", "-x", "--kora-report", "r.json"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*typo 1.0.0: INCOMPLETE — *the run stopped early*; 1 MUST check failed: KC-PL-003*"]
    )
    assert read(pytester.path / "r.json")["verdict"] == "incomplete"


def test_a_run_interrupted_with_sigint_is_incomplete(tmp_path: Path) -> None:
    marker = tmp_path / "importing"
    write_plugin(
        tmp_path,
        "slowpoke",
        f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)\n" + GOOD,
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--kora-conformance", "--kora-plugin", "slowpoke",
         "--kora-report", "r.json", "--kora-badge", "badge.json"],
        cwd=tmp_path, env=kit_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the plugin was never imported"
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "slowpoke 1.0.0: INCOMPLETE" in out
    assert "interrupted" in out
    assert read(tmp_path / "r.json")["verdict"] == "incomplete"
    assert json.loads((tmp_path / "badge.json").read_text())["color"] != "brightgreen"


def test_collect_only_prints_no_verdict(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug")
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "goodplug", "--co")
    assert result.ret == 0
    assert "CONFORMANT" not in result.stdout.str()
    assert "INCOMPLETE" not in result.stdout.str()


def test_the_selftest_refuses_xdist(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--kora-selftest", "-p", "xdist", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--kora-selftest runs its certifications in parallel itself*"])


def test_the_table_summarises_checks_that_do_not_apply(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug")
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "goodplug", "-ra")
    assert result.ret == 0
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*7 identity checks skipped: registers no identity provider",
            "*7 daemon checks skipped: registers no background daemons",
            "*12 runtime checks skipped: not a runtime target",
        ]
    )
    assert "KC-RT-001" not in out
    assert "SKIPPED" not in out  # -ra does not list the kit's applicability decisions again
    result.stdout.fnmatch_lines(["*10 passed, 26 not applicable*"])


def test_a_plugin_that_does_not_load_shows_the_failure_once(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "broken", "import a_module_that_does_not_exist\n" + GOOD)
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "broken")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*30 checks skipped: the plugin does not load (see KC-PL-001)", "*NOT CONFORMANT*"]
    )
    # The whole error once (the failure); the runtime's log of it and the table row do not
    # repeat it.
    # (pytest's own short summary, which CI prints whole, comes after and is not the kit's.)
    out = result.stdout.str().split("short test summary info")[0]
    assert out.count("the other plugins still load") == 1


def test_checks_write_home_into_the_sandbox(tmp_path: Path) -> None:
    home = tmp_path / "realhome"
    home.mkdir()
    write_plugin(
        tmp_path,
        "homebody",
        "import os, pathlib\n"
        "pathlib.Path(os.path.expanduser('~/.homebody')).write_text('x')\n"
        "pathlib.Path(os.environ['HERMES_HOME'], 'state.json').write_text('{}')\n" + GOOD,
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--kora-conformance", "--kora-plugin", "homebody"],
        cwd=tmp_path, env=kit_env(home), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(home.iterdir()) == []
    assert not (tmp_path / ".hypothesis").exists()
    assert not (tmp_path / ".pytest_cache").exists()


def test_the_json_report_carries_each_checks_finding_and_duration(
    pytester: pytest.Pytester,
) -> None:
    write_plugin(pytester.path, "typo", TYPO_HOOK)
    pytester.runpytest("--kora-conformance", "--kora-plugin", "typo", "--kora-report", "r.json")
    report = read(pytester.path / "r.json")
    rows = {c["id"]: c for c in report["targets"][0]["checks"]}
    failed = rows["KC-PL-003"]
    assert failed["outcome"] == "failed"
    assert "on_sesion_start" in failed["seen"]
    assert failed["expected"]
    assert failed["fix"] == next(c.fix for c in CATALOG if c.id == "KC-PL-003")
    assert failed["duration"] > 0
    assert rows["KC-PL-001"]["outcome"] == "passed"
    assert rows["KC-PL-001"]["fix"] == ""


def test_console_command_lists_and_explains_the_catalog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert all(c.id in listed for c in CATALOG)
    text = explain("kc-id-003")
    assert text.startswith("KC-ID-003: Provider signature (MUST, applies to a plugin)")
    for label in ("Rule:", "Why:", "Fix:", "Example:"):
        assert label in text
    assert "id003_no_kwargs" in text
    assert main(["explain", "KC-XX-999"]) == 4
    assert "kora-conformance list" in capsys.readouterr().err


def test_console_command_certifies(tmp_path: Path) -> None:
    write_plugin(tmp_path, "goodplug")
    done = subprocess.run(
        [sys.executable, "-m", "kora_conformance", "check", "goodplug", "--report", "r.json"],
        cwd=tmp_path, env=kit_env(tmp_path), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "goodplug 1.0.0: CONFORMANT" in done.stdout
    assert read(tmp_path / "r.json")["verdict"] == "conformant"
