"""The kit's user interface: options, target resolution, node IDs, outcomes and the report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kora_conformance.model._catalog import CATALOG

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
MARVIN = REPO / "plugins" / "marvin"


def write_plugin(root: Path, name: str, body: str, manifest: str | None = None) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    hooks = "[on_session_start]" if body.endswith(GOOD) else "[]"
    (directory / "plugin.yaml").write_text(
        manifest if manifest is not None else f"name: {name}\nversion: 1.2.3\nhooks: {hooks}\n"
    )
    (directory / "__init__.py").write_text(textwrap.dedent(body))
    return directory


#: A plugin that registers one session hook (a plugin registering nothing fails KC-PL-018).
GOOD = """
def register(ctx):
    ctx.register_hook('on_session_start', lambda **kw: None)
"""
ADAPTER_SHAPE = """
class Adapter:
    name = {name}
    version = {version}

    @property
    def protocol_version(self):
        return {protocol}

    def start(self, spec):
        raise NotImplementedError


def make():
    return Adapter()
"""


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_own():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "kora conformance" not in result.stdout.str()


def test_plugin_module_is_cheap_to_import() -> None:
    code = (
        "import sys, kora_conformance.plugin\n"
        "heavy = [m for m in ('anthropic', 'reference_runtime', 'hypothesis', 'respx') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_the_packaged_suites_are_collected(pytester: pytest.Pytester) -> None:
    # The author's own tests and an autouse fixture that would break everything are ignored.
    pytester.makepyfile(test_own="def test_own():\n    raise AssertionError('collected')\n")
    pytester.makeconftest(
        "import pytest\n@pytest.fixture(autouse=True)\ndef boom():\n    raise RuntimeError\n"
    )
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "goodplug")
    assert "test_own" not in result.stdout.str()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*goodplug 1.2.3: CONFORMANT*"])


def test_node_ids_carry_check_and_target(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--collect-only", "-q"
    )
    plugin_checks = [c for c in CATALOG if c.scope == "plugin"]
    for check in plugin_checks:
        result.stdout.fnmatch_lines([f"kora-conformance::goodplug::{check.id}"])


def test_a_directory_target_is_named_by_its_manifest_name(pytester: pytest.Pytester) -> None:
    # A GitHub checkout named after its repository: the runtime keys it by the manifest's name.
    write_plugin(pytester.path, "quill-agent", GOOD, manifest="name: quill\nversion: 2.0.1\n")
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "quill-agent")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*quill 2.0.1: CONFORMANT*"])
    assert "quill-agent::" not in result.stdout.str()


def test_k_selects_by_check_id_and_by_target(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "alpha", GOOD)
    write_plugin(pytester.path, "beta", GOOD)
    base = ["--kora-conformance", "--kora-plugin", "alpha", "--kora-plugin", "beta", "-q"]
    by_id = pytester.runpytest(*base, "--collect-only", "-k", "KC-PL-001")
    by_id.stdout.fnmatch_lines(["*2/* tests collected (* deselected)*"])
    by_target = pytester.runpytest(*base, "--collect-only", "-k", "alpha")
    assert "beta::" not in by_target.stdout.str()
    assert "alpha::KC-PL-001" in by_target.stdout.str()


def test_check_id_is_a_marker_and_a_junit_property(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--junitxml=junit.xml"
    )
    assert result.ret == 0
    xml = (pytester.path / "junit.xml").read_text()
    assert '<property name="kora_check" value="KC-PL-001"' in xml
    assert '<property name="kora_target" value="goodplug"' in xml


def test_failure_names_id_rule_expected_seen_and_fix(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "noregister", "VALUE = 1\n")
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "noregister")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*KC-PL-001 (MUST) Discoverable and loadable: plugin 'noregister' breaks the rule*",
            "*rule:*",
            "*expected:*",
            "*seen:*no register(ctx) function*",
            "*fix:*",
            "*docs:*kora-conformance explain KC-PL-001*",
            "*noregister 1.2.3: NOT CONFORMANT — 1 MUST check failed: KC-PL-001*",
        ]
    )


def test_json_report_lists_every_check_for_every_target(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    write_plugin(pytester.path, "noregister", "VALUE = 1\n")
    result = pytester.runpytest(
        "--kora-conformance",
        "--kora-plugin",
        "goodplug",
        "--kora-plugin",
        "noregister",
        "--kora-report",
        "out/report.json",
        "--kora-seed",
        "1234",
    )
    assert result.ret == 1
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["schema"] == "kora-conformance-report/2"
    assert report["contract_level"] == "1"
    assert report["verdict"] == "not-conformant"
    assert set(report["kit"]) == {"version"}
    assert set(report["runtime"]) == {"name", "version"}
    assert report["environment"]["hypothesis_seed"] == 1234
    assert set(report["environment"]) == {"python", "pytest", "hypothesis_seed"}
    by_name = {t["name"]: t for t in report["targets"]}
    assert by_name["goodplug"]["verdict"] == "conformant"
    assert by_name["noregister"]["verdict"] == "not-conformant"
    for target in report["targets"]:
        assert {"name", "version", "route", "verdict", "checks"} <= set(target)
        assert target["route"] == "directory"
        assert [c["id"] for c in target["checks"]] == [c.id for c in CATALOG]
        for row in target["checks"]:
            assert row["outcome"] in {"passed", "failed", "warned", "skipped"}
            if row["outcome"] == "skipped":
                assert row["message"], row
    failed = {c["id"]: c for c in by_name["noregister"]["checks"] if c["outcome"] == "failed"}
    assert "KC-PL-001" in failed


def test_should_failure_warns_under_gate_must_and_fails_under_gate_all(
    pytester: pytest.Pytester,
) -> None:
    # Registers a hook its manifest does not declare: a SHOULD finding (KC-PL-004).
    write_plugin(
        pytester.path,
        "undeclared",
        "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n",
    )
    args = ["--kora-conformance", "--kora-plugin", "undeclared"]
    warned = pytester.runpytest(*args)
    assert warned.ret == 0
    warned.stdout.fnmatch_lines(["*KC-PL-004*SHOULD*warned*", "*undeclared 1.2.3: CONFORMANT*"])
    gated = pytester.runpytest(*args, "--kora-gate", "all")
    assert gated.ret == 1


def test_not_applicable_checks_are_skipped_with_their_reason(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--kora-report", "r.json"
    )
    rows = json.loads((pytester.path / "r.json").read_text())["targets"][0]["checks"]
    skipped = {r["id"]: r["message"] for r in rows if r["outcome"] == "skipped"}
    assert skipped["KC-ID-001"] == "registers no identity provider"
    assert skipped["KC-DM-001"] == "registers no background daemons"
    assert result.ret == 0


def test_target_from_the_current_directory(pytester: pytest.Pytester) -> None:
    (pytester.path / "plugin.yaml").write_text("name: placeholder\n")
    plugin = write_plugin(pytester.path, "here", GOOD)
    (pytester.path / "plugin.yaml").unlink()
    result = pytester.runpytest(
        "--kora-conformance", "-k", "PL-001 or RT-009", "--rootdir", str(plugin)
    )
    # The current directory is pytester.path, which holds no plugin: the run says so and
    # certifies the reference runtime instead (two of its checks: an incomplete run).
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*no plugin named or found in*pass --kora-plugin DIR|NAME*",
            "*certifying reference_runtime*(runtime:*",
            "*reference_runtime 0.1.0: INCOMPLETE*",
        ]
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(plugin)
        found = pytester.runpytest("--kora-conformance")
    assert found.ret == 0
    found.stdout.fnmatch_lines(["*found in*here*", "*here 1.2.3: CONFORMANT*"])


def test_unknown_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "no-such-plugin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*'no-such-plugin' is neither a directory nor the entry-point name*"]
    )


def test_project_directory_with_an_uninstalled_entry_point(pytester: pytest.Pytester) -> None:
    project = pytester.path / "proj"
    package = project / "src" / "kct_projplug"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(GOOD)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "kct-projplug"\nversion = "2.0"\n'
        '[project.entry-points."hermes_agent.plugins"]\nprojplug = "kct_projplug:register"\n'
    )
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "proj")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*certifying projplug 2.0 (entry_point:*", "*CONFORMANT*"])


def test_bad_max_examples_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--kora-max-examples", "0"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_an_adapter_module_that_raises_at_import_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(kct_broken_adapter="raise RuntimeError('the adapter cannot start')\n")
    before = list(sys.path)
    result = pytester.runpytest("--kora-conformance", "--kora-runtime", "kct_broken_adapter:make")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--kora-runtime 'kct_broken_adapter:make': cannot import the factory*RuntimeError*"]
    )
    assert sys.path == before


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("import sys\nsys.exit(3)\n", "cannot import the factory (SystemExit: 3)"),
        ("import sys\ndef make():\n    sys.exit(4)\n", "the factory raised SystemExit: 4"),
        (ADAPTER_SHAPE.format(name="None", version="'1'", protocol="1"), "name (None) must be"),
        (ADAPTER_SHAPE.format(name="7", version="'1'", protocol="1"), "name (7) must be"),
        (
            ADAPTER_SHAPE.format(name="'x'", version="'1'", protocol="1/0"),
            "raised ZeroDivisionError",
        ),
    ],
)
def test_a_broken_adapter_is_a_usage_error(
    pytester: pytest.Pytester, module: str, message: str
) -> None:
    pytester.makepyfile(kct_odd_adapter=module)
    result = pytester.runpytest("--kora-conformance", "--kora-runtime", "kct_odd_adapter:make")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("option", ["--kora-report", "--kora-summary", "--kora-badge"])
def test_an_unwritable_artifact_path_is_refused_before_the_run(
    pytester: pytest.Pytester, option: str
) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    (pytester.path / "taken").write_text("a file, not a directory")
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", option, "taken/out.json"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{option} " in result.stderr.str()
    assert "is not a directory" in result.stderr.str()
    assert "KC-PL-001" not in result.stdout.str()  # nothing ran


def test_too_many_examples_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "goodplug", GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "goodplug", "--kora-max-examples", "1000000"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "from 1 to 10000" in result.stderr.str()


def test_entry_points_that_are_not_a_table_are_a_usage_error(pytester: pytest.Pytester) -> None:
    project = pytester.path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "kct-odd"\nversion = "1"\nentry-points = "hermes_agent.plugins"\n'
    )
    result = pytester.runpytest("--kora-conformance", "--kora-plugin", "proj")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "project.entry-points must be a table" in result.stderr.str()
