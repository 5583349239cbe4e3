"""NEEDS HOST: a plugin that imports a Hermes host module the environment lacks.

The environment, not the plugin, is missing something, so the verdict says what to install
instead of calling the plugin NOT CONFORMANT.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from kora_conformance.model._catalog import CATALOG
from kora_conformance.model._targets import Target
from kora_conformance.run import _host
from kora_conformance.run._artifacts import badge, render_summary
from kora_conformance.run._findings import Finding
from kora_conformance.run._results import Results

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "kora_conformance" / "report.schema.json").read_text()
)
LOAD_ERROR = (
    "it did not load: plugin 'kct_p' (installed entry point) failed to load: "
    "ModuleNotFoundError: No module named '{}' at /x/__init__.py:3; its registrations were "
    "rolled back and the other plugins still load"
)


@pytest.mark.parametrize(
    ("missing", "module"),
    [
        ("gateway", "gateway"),
        ("gateway.platforms.base", "gateway.platforms.base"),
        ("hermes_cli.plugins", "hermes_cli.plugins"),
        ("agent.memory_provider", "agent.memory_provider"),
        ("hermes_constants", "hermes_constants"),
        ("tools.registry", "tools.registry"),
    ],
)
def test_a_missing_host_module_is_recognised(missing: str, module: str) -> None:
    need = _host.needed_host(LOAD_ERROR.format(missing), host_installed=False)

    assert need is not None
    assert need.module == module
    assert _host.INSTALL_LINE in need.describe()
    assert repr(module) in need.describe()


@pytest.mark.parametrize(
    "error",
    [
        LOAD_ERROR.format("requests"),  # a dependency of the plugin, not of the host
        LOAD_ERROR.format("kct_agent_helpers"),
        "it did not load: ... failed to load: ImportError: cannot import name 'AudioFormat' "
        "from 'gateway.platforms.base' (/site/gateway/platforms/base.py)",
        "it did not load: ... failed to load: RuntimeError: No module named 'gateway' is fake",
        "it was not found",
    ],
)
def test_other_load_errors_are_the_plugin_s_own(error: str) -> None:
    assert _host.needed_host(error, host_installed=False) is None


def test_with_the_host_installed_a_missing_module_is_the_plugin_s_problem() -> None:
    # The host is there and lacks the module: the plugin targets another host version.
    assert _host.needed_host(LOAD_ERROR.format("gateway.newer"), host_installed=True) is None


def test_the_host_is_detected_by_its_distribution() -> None:
    expected = True
    try:
        import importlib.metadata

        importlib.metadata.distribution("hermes-agent")
    except importlib.metadata.PackageNotFoundError:
        expected = False
    assert _host.host_installed() is expected


def _results(seen: str) -> tuple[Results, Target]:
    target = Target("kct_p", "1.0", "entry_point", "installed entry point")
    results = Results([target])
    for check in CATALOG:
        if check.scope != "plugin":
            continue
        if check.id == "KC-PL-001":
            finding = Finding("failed", seen, "the plugin to load", seen)
        else:
            finding = Finding("skipped", "the plugin does not load (see KC-PL-001)")
        results._seen[(target.name, check.id)] = finding
    return results, target


@pytest.fixture
def no_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_host, "host_installed", lambda: False)


@pytest.mark.usefixtures("no_host")
def test_the_verdict_is_needs_host_and_names_module_and_install_line() -> None:
    results, target = _results(LOAD_ERROR.format("gateway.platforms.base"))

    assert results.verdict(target) == "needs-host"
    assert results.overall() == "needs-host"
    line = results.verdict_line(target)
    assert line.startswith("kct_p 1.0: NEEDS HOST")
    assert "'gateway.platforms.base'" in line
    assert "pip install 'kora-conformance[hermes]'" in line


@pytest.mark.usefixtures("no_host")
def test_the_json_report_carries_the_verdict_and_what_is_missing() -> None:
    results, _ = _results(LOAD_ERROR.format("hermes_cli"))

    document = results.as_json(kit_version="0", runtime={"name": "r", "version": "0"}, seed=1)

    jsonschema.validate(document, SCHEMA)
    assert document["verdict"] == "needs-host"
    (target,) = document["targets"]
    assert target["verdict"] == "needs-host"
    assert target["needs_host"] == {
        "module": "hermes_cli",
        "install": "pip install 'kora-conformance[hermes]'",
    }


@pytest.mark.usefixtures("no_host")
def test_badge_and_summary_say_needs_host() -> None:
    results, _ = _results(LOAD_ERROR.format("agent"))

    assert badge(results)["message"] == "needs host L1"
    assert badge(results)["color"] == "blue"
    summary = render_summary(results, kit_version="0", runtime={"name": "r", "version": "0"})
    assert summary.startswith("# Kora conformance: NEEDS HOST")


@pytest.mark.usefixtures("no_host")
def test_a_plugin_defect_elsewhere_in_the_run_still_makes_it_not_conformant() -> None:
    results, needs = _results(LOAD_ERROR.format("gateway"))
    broken = Target("kct_q", "1.0", "directory", "/q")
    results.targets.append(broken)
    for check in CATALOG:
        if check.scope == "plugin":
            results._seen[(broken.name, check.id)] = Finding("failed", "boom", "x", "boom")

    assert results.verdict(needs) == "needs-host"
    assert results.verdict(broken) == "not-conformant"
    assert results.overall() == "not-conformant"


def test_an_ordinary_load_failure_is_still_not_conformant() -> None:
    results, target = _results(LOAD_ERROR.format("requests"))

    assert results.verdict(target) == "not-conformant"
    assert "needs_host" not in results.as_json(kit_version="0", runtime={}, seed=1)["targets"][0]


HOST_PLUGIN = """\
from gateway.platforms.base import BasePlatformAdapter

def register(ctx):
    pass
"""


@pytest.mark.slow
def test_certifying_a_plugin_that_needs_the_host_says_so(tmp_path: Path) -> None:
    if _host.host_installed():
        pytest.skip("hermes-agent is installed here, so the host module is not missing")
    plugin = tmp_path / "kct_hosted"
    plugin.mkdir()
    (plugin / "plugin.yaml").write_text("name: kct_hosted\nversion: '1.0'\n")
    (plugin / "__init__.py").write_text(HOST_PLUGIN)
    report = tmp_path / "report.json"
    badge_path = tmp_path / "badge.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--kora-conformance", "--kora-plugin", str(plugin),
         "--kora-report", str(report), "--kora-badge", str(badge_path), "-p", "no:randomly"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert done.returncode == 1, done.stdout + done.stderr
    assert "kct_hosted 1.0: NEEDS HOST" in done.stdout
    assert "'gateway'" in done.stdout
    document = json.loads(report.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["targets"][0]["verdict"] == "needs-host"
    assert json.loads(badge_path.read_text())["message"] == "needs host L1"
