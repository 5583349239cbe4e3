"""What a CI pipeline gets: artifacts, exemptions with accountability, and parallel runs."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from pathlib import Path

import pytest

from kora_conformance._errors import TargetError
from kora_conformance.run._exemptions import Exemption, load_exemptions

pytest_plugins = ["pytester"]

UNDECLARED = """
def register(ctx):
    ctx.register_hook("on_session_start", lambda **kw: None)
"""
#: A plugin that registers one session hook (a plugin registering nothing fails KC-PL-018).
GOOD = "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n"


def write_plugin(root: Path, name: str, body: str, pyproject: str = "") -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    hooks = "[on_session_start]" if "register_hook('on_session_start'" in body else "[]"
    (directory / "plugin.yaml").write_text(f"name: {name}\nversion: 1.0.0\nhooks: {hooks}\n")
    (directory / "__init__.py").write_text(textwrap.dedent(body))
    if pyproject:
        (directory / "pyproject.toml").write_text(textwrap.dedent(pyproject))
    return directory


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    result = pytester.runpytest("--kora-conformance", "--kora-report", "r.json", *args)
    return result, json.loads((pytester.path / "r.json").read_text())


def without_timings(targets: list[dict]) -> list[dict]:
    """The targets of a report with each check's duration taken out (it differs run to run)."""
    return [
        {**t, "checks": [{k: v for k, v in c.items() if k != "duration"} for c in t["checks"]]}
        for t in targets
    ]


def outcome(report: dict, target: str, check: str) -> dict:
    (row,) = [
        c for t in report["targets"] if t["name"] == target for c in t["checks"] if c["id"] == check
    ]
    return row


def test_report_summary_badge_and_junit_are_all_written(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    write_plugin(pytester.path, "undeclared", UNDECLARED)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--kora-plugin", "undeclared",
        "--kora-report", "out/r.json", "--kora-summary", "out/summary.md",
        "--kora-badge", "out/badge.json", "--junitxml", "out/junit.xml",
    )  # fmt: skip
    assert result.ret == 0
    out = pytester.path / "out"
    report = json.loads((out / "r.json").read_text())
    assert report["runtime"] == {"name": "reference_runtime", "version": "0.1.0"}
    assert all("exemptions" in t for t in report["targets"])
    summary = (out / "summary.md").read_text()
    assert summary.startswith("# Kora conformance: CONFORMANT")
    assert "## undeclared 1.0.0: CONFORMANT (warnings: KC-PL-004)" in summary
    assert "### How to fix" in summary
    assert "**KC-PL-004**" in summary
    badge = json.loads((out / "badge.json").read_text())
    assert badge == {
        "schemaVersion": 1,
        "label": "kora conformance",
        "message": "conformant L1 (warnings)",
        "color": "yellow",
    }
    assert "kora_check" in (out / "junit.xml").read_text()


def test_badge_is_red_when_a_must_check_fails(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "noregister", "VALUE = 1\n")
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "noregister", "--kora-badge", "b.json"
    )
    assert result.ret == 1
    badge = json.loads((pytester.path / "b.json").read_text())
    assert (badge["message"], badge["color"]) == ("not conformant L1", "red")


EXEMPT_PL004 = """
[tool.kora-conformance]
exemptions = [{{ check = "KC-PL-004", reason = "hooks are listed at runtime"{extra} }}]
"""


def test_a_valid_exemption_turns_a_failure_into_exempted(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "undeclared", UNDECLARED, EXEMPT_PL004.format(extra=""))
    result, report = run(pytester, "--kora-plugin", "undeclared", "--kora-gate", "all")
    assert result.ret == 0
    row = outcome(report, "undeclared", "KC-PL-004")
    assert row["outcome"] == "exempted"
    assert "hooks are listed at runtime" in row["message"]
    (target,) = report["targets"]
    assert target["verdict"] == "conformant"
    assert target["exemptions"][0]["check"] == "KC-PL-004"
    result.stdout.fnmatch_lines(["*undeclared 1.0.0: CONFORMANT (exempted: KC-PL-004)*"])


def test_an_exemption_for_a_passing_check_fails_it(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD, EXEMPT_PL004.format(extra=""))
    result, report = run(pytester, "--kora-plugin", "goodplug", "--kora-gate", "all")
    assert result.ret == 1
    assert outcome(report, "goodplug", "KC-PL-004")["outcome"] == "failed"
    result.stdout.fnmatch_lines(["*remove your exemption*"])


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (', until = "2000-01-01"', "expired on 2000-01-01"),
        (', until = "0.0.1"', "held until kit 0.0.1"),
    ],
)
def test_an_expired_exemption_is_a_failure(
    pytester: pytest.Pytester, extra: str, words: str
) -> None:
    write_plugin(pytester.path, "undeclared", UNDECLARED, EXEMPT_PL004.format(extra=extra))
    result, report = run(pytester, "--kora-plugin", "undeclared", "--kora-gate", "all")
    assert result.ret == 1
    assert outcome(report, "undeclared", "KC-PL-004")["outcome"] == "failed"
    result.stdout.fnmatch_lines([f"*{words}*"])


def test_an_exemption_without_reason_is_a_failure(pytester: pytest.Pytester) -> None:
    pyproject = '[tool.kora-conformance]\nexemptions = [{ check = "KC-PL-004" }]\n'
    write_plugin(pytester.path, "undeclared", UNDECLARED, pyproject)
    result, _report = run(pytester, "--kora-plugin", "undeclared", "--kora-gate", "all")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*has no reason; add one*"])


def test_an_exemption_for_an_unknown_check_stops_the_run(pytester: pytest.Pytester) -> None:
    pyproject = '[tool.kora-conformance]\nexemptions = [{ check = "KC-XX-001", reason = "x" }]\n'
    write_plugin(pytester.path, "goodplug", GOOD, pyproject)
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "goodplug")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown check 'KC-XX-001'*"])


def test_exemptions_in_the_invocation_directory_can_target_one_plugin(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.kora-conformance]\nexemptions = [\n"
        '  { check = "KC-ID-007", reason = "r", target = "marvin", until = "2999-01-01" },\n'
        '  { check = "KC-PL-004", reason = "r" },\n]\n'
    )
    found = load_exemptions([tmp_path / "pyproject.toml", tmp_path / "missing.toml"])
    assert [(e.check, e.target) for e in found] == [("KC-ID-007", "marvin"), ("KC-PL-004", "")]
    today = dt.date(2026, 1, 1)
    assert all(e.problem(today=today, kit_version="0.1.0") is None for e in found)
    late = Exemption("KC-PL-004", "r", until="2025-12-31", source="p")
    assert "expired" in (late.problem(today=today, kit_version="0.1.0") or "")


def test_parallel_run_gives_the_same_report_as_a_serial_run(pytester: pytest.Pytester) -> None:
    for name in ("alpha", "beta", "gamma"):
        write_plugin(pytester.path, name, GOOD)
    write_plugin(pytester.path, "undeclared", UNDECLARED)
    args = ["--kora-conformance", "--kora-seed", "99", "-p", "xdist"]
    for name in ("alpha", "beta", "gamma", "undeclared"):
        args += ["--kora-plugin", name]
    serial = pytester.runpytest_subprocess(*args, "--kora-report", "serial.json", "-n", "0")
    parallel = pytester.runpytest_subprocess(*args, "--kora-report", "par.json", "-n", "2")
    assert serial.ret == parallel.ret == 0
    one = json.loads((pytester.path / "serial.json").read_text())
    two = json.loads((pytester.path / "par.json").read_text())
    assert without_timings(one["targets"]) == without_timings(two["targets"])
    assert one["verdict"] == two["verdict"]
    assert one["environment"]["hypothesis_seed"] == two["environment"]["hypothesis_seed"] == 99


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool]\nkora-conformance = "exempt everything"\n', "must be a table (got str)"),
        ("[tool]\nkora-conformance = []\n", "must be a table (got list)"),
        (
            'exemptions = [{ check = "KC-PL-004", reason = "r", until = "2025-13-45" }]',
            "not a date",
        ),
        ('exemptions = [{ check = "KC-PL-004", reason = "r", until = 20200101 }]', "not a string"),
        ('exemptions = [{ check = "KC-PL-004", reason = "r", until = "soon" }]', "neither a date"),
        ('exemptions = [{ check = "KC-PL-004", reason = [] }]', "reason must be a string"),
        ('exemptions = [{ check = "KC-PL-004", reason = "r", target = 7 }]', "target must be"),
    ],
)
def test_a_malformed_exemption_is_an_error_naming_the_file_and_field(
    tmp_path: Path, table: str, message: str
) -> None:
    text = table if table.startswith("[tool]") else f"[tool.kora-conformance]\n{table}\n"
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(TargetError, match=re.escape(message)) as raised:
        load_exemptions([tmp_path / "pyproject.toml"])
    assert str(tmp_path / "pyproject.toml") in str(raised.value)


def test_an_unquoted_toml_date_is_a_date(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kora-conformance]\nexemptions = [{ check = "KC-PL-004", reason = "r", '
        "until = 2027-03-31 }]\n"
    )
    (exemption,) = load_exemptions([tmp_path / "pyproject.toml"])
    assert exemption.until == "2027-03-31"


def test_an_exemption_naming_a_target_the_run_lacks_is_warned(pytester: pytest.Pytester) -> None:
    pyproject = (
        '[tool.kora-conformance]\nexemptions = [{ check = "KC-PL-004", reason = "r", '
        'target = "undeclard" }]\n'
    )
    write_plugin(pytester.path, "undeclared", UNDECLARED, pyproject)
    result, _ = run(pytester, "--kora-plugin", "undeclared")
    result.stdout.fnmatch_lines(
        ["*warning: exemption for KC-PL-004 in *pyproject.toml names target 'undeclard'*a typo?"]
    )
