"""No vacuous verdict: what a verdict rests on, and the plugins that would pass vacuously.

Plugins written here in the shapes the published corpus shows: one that goes inactive and
registers nothing, one that swallows the error of a context call, a tool-and-platform plugin
(a platform no check examines), a category plugin, and an entry-point package that ships its
own ``plugin.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

pytest_plugins = ["pytester"]

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "kora_conformance" / "report.schema.json").read_text()
)

TOOL_AND_PLATFORM = """\
import json

SCHEMA = {"name": "kct_echo", "description": "Echo.",
          "parameters": {"type": "object", "properties": {"text": {"type": "string"}}}}


def echo(args, **kwargs):
    return json.dumps({"text": args.get("text", "")})


def register(ctx):
    ctx.register_tool("kct_echo", "kct", SCHEMA, echo)
    ctx.register_platform("kct_pager", "Pager", lambda cfg: object(), lambda: True)
    ctx.register_auxiliary_task("kct_digest", display_name="Digest")
"""

INACTIVE = """\
import importlib.util


def register(ctx):
    if importlib.util.find_spec("kct_missing_backend") is None:
        return
    ctx.register_hook("on_session_start", lambda **kwargs: None)
"""

SWALLOWS = """\
def register(ctx):
    try:
        ctx._manager.register_tool("kct_x")
    except AttributeError:
        pass
    ctx.register_hook("on_session_start", lambda **kwargs: None)
"""

HOOKED = """\
def register(ctx):
    ctx.register_hook("on_session_start", lambda **kwargs: None)
"""


def _plugin(root: Path, name: str, body: str, manifest: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "__init__.py").write_text(body)
    (directory / "plugin.yaml").write_text(manifest)
    return directory


def _certify(pytester: pytest.Pytester, *plugins: str) -> tuple[Any, dict[str, Any]]:
    args = ["--kora-conformance", "--kora-report", "r.json", "-p", "no:randomly"]
    for plugin in plugins:
        args += ["--kora-plugin", plugin]
    result = pytester.runpytest_subprocess(*args)
    report = json.loads((pytester.path / "r.json").read_text())
    jsonschema.validate(report, SCHEMA)
    return result, {t["name"]: t for t in report["targets"]}


def _outcomes(target: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in target["checks"]}


def test_vacuous_plugins_fail_and_the_report_says_what_a_verdict_rests_on(
    pytester: pytest.Pytester,
) -> None:
    root = pytester.path / "plugins"
    _plugin(root, "kct_inactive", INACTIVE, "name: kct_inactive\nversion: 1.0.0\n")
    _plugin(
        root,
        "kct_swallows",
        SWALLOWS,
        "name: kct_swallows\nversion: 1.0.0\nhooks: [on_session_start]\n",
    )
    _plugin(
        root,
        "kct_tools",
        TOOL_AND_PLATFORM,
        "name: kct_tools\nversion: 1.0.0\nprovides_tools: [kct_echo]\n",
    )

    result, targets = _certify(
        pytester, "plugins/kct_inactive", "plugins/kct_swallows", "plugins/kct_tools"
    )

    assert _outcomes(targets["kct_inactive"])["KC-PL-018"] == "failed"
    assert targets["kct_inactive"]["verdict"] == "not-conformant"
    swallowed = next(c for c in targets["kct_swallows"]["checks"] if c["id"] == "KC-PL-019")
    assert swallowed["outcome"] == "failed"
    assert "ctx._manager raised AttributeError" in swallowed["seen"]
    assert "kct_swallows/__init__.py:3" in swallowed["seen"]
    assert targets["kct_swallows"]["verdict"] == "not-conformant"

    tools = targets["kct_tools"]
    assert tools["verdict"] == "conformant", tools
    coverage = tools["coverage"]
    [tool, platform] = coverage["checked"]
    assert (tool["kind"], tool["key"]) == ("tool", "kct_echo")
    assert {"KC-PL-010", "KC-PL-011"} <= set(tool["checks"])
    assert (platform["kind"], platform["checks"]) == ("platform", ["KC-PL-021"])
    # No check examines an auxiliary task beyond the rules it is registered by.
    assert coverage["not_covered"] == [{"kind": "auxiliary_task", "key": "kct_digest"}]
    result.stdout.fnmatch_lines(
        [
            "*kct_inactive 1.0.0: NOT CONFORMANT*KC-PL-018*",
            "*kct_swallows 1.0.0: NOT CONFORMANT*KC-PL-019*",
            "*kct_tools 1.0.0: CONFORMANT*",
            "*kct_tools 1.0.0 rests on 2 checked registrations (tool 'kct_echo', platform "
            "'kct_pager'); not covered by any check: auxiliary task 'kct_digest'",
        ]
    )


AUXILIARY_ONLY = """\
def register(ctx):
    ctx.register_auxiliary_task("kct_digest", display_name="Digest")
    ctx.register_redaction_patterns([r"kct-[0-9]+"])
"""


def test_a_plugin_whose_registrations_no_check_examines_is_nothing_checked(
    pytester: pytest.Pytester,
) -> None:
    _plugin(pytester.path / "plugins", "kct_aux", AUXILIARY_ONLY, "name: kct_aux\nversion: 1.0.0\n")
    _plugin(pytester.path / "plugins", "kct_hooked", HOOKED, "name: kct_hooked\nversion: 1.0.0\n")

    result, targets = _certify(pytester, "plugins/kct_aux", "plugins/kct_hooked")

    assert not _failed_musts(targets["kct_aux"])
    assert targets["kct_aux"]["verdict"] == "nothing-checked"
    assert targets["kct_aux"]["coverage"]["checked"] == []
    # A plugin beside it with a checked registration keeps its own verdict.
    assert targets["kct_hooked"]["verdict"] == "conformant"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*kct_aux 1.0.0: NOTHING CHECKED — no check examines what it registers (auxiliary "
            "task 'kct_digest', redaction patterns 'kct_aux'); it passed the registration "
            "rules, and the kit certifies nothing beyond them",
        ]
    )


def _failed_musts(target: dict[str, Any]) -> list[str]:
    return [c["id"] for c in target["checks"] if c["outcome"] == "failed" and c["level"] == "MUST"]


def test_a_category_plugin_certifies_from_its_directory(pytester: pytest.Pytester) -> None:
    _plugin(
        pytester.path / "plugins" / "platforms",
        "kct_cat",
        HOOKED,
        "name: kct_cat\nversion: 1.0.0\nhooks: [on_session_start]\n",
    )

    _, targets = _certify(pytester, "plugins/platforms/kct_cat")

    assert targets["kct_cat"]["verdict"] == "conformant", targets["kct_cat"]
    assert targets["kct_cat"]["coverage"]["checked"][0]["key"] == "on_session_start"


def _project(pytester: pytest.Pytester, manifest: str) -> None:
    package = pytester.path / "proj" / "src" / "kct_pkgyaml"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(HOOKED)
    (package / "plugin.yaml").write_text(manifest)
    (pytester.path / "proj" / "pyproject.toml").write_text(
        '[project]\nname = "kct-pkgyaml"\nversion = "2.0"\n'
        '[project.entry-points."hermes_agent.plugins"]\npkgyaml = "kct_pkgyaml"\n'
    )


def test_an_entry_point_packages_own_manifest_is_found_and_validated(
    pytester: pytest.Pytester,
) -> None:
    # Named differently from the entry point (the host keys it by the entry point's name).
    _project(pytester, "name: kct-pkgyaml\nversion: '2.0'\nhooks: [on_session_start]\n")

    _, targets = _certify(pytester, "proj")

    outcomes = _outcomes(targets["pkgyaml"])
    assert outcomes["KC-PL-002"] == "passed"
    assert outcomes["KC-PL-004"] == "passed"
    assert targets["pkgyaml"]["verdict"] == "conformant"


def test_an_entry_point_packages_broken_manifest_fails(pytester: pytest.Pytester) -> None:
    _project(pytester, "name: kct-pkgyaml\nversion: 1.10\ncolour: blue\n")

    _, targets = _certify(pytester, "proj")

    outcomes = _outcomes(targets["pkgyaml"])
    assert outcomes["KC-PL-002"] == "failed"
    assert outcomes["KC-PL-020"] == "skipped"  # an invalid manifest: KC-PL-002 reports it
