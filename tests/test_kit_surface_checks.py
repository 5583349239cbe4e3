"""The Hermes-surface checks (KC-PL-007 to KC-PL-017): plugins in upstream shapes certify, the
findings say what and where, and the rules underneath hold case by case.

Mutant by mutant coverage is tests/test_kit_mutants.py's; here one certification of the five
plugins under tests/plugins_upstream/ (and two mutants, for their messages) runs in a subprocess
and the tests read its report and output.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from kora_conformance.model._check import Profile, needs_callbacks, needs_commands, needs_tools
from kora_conformance.mutants._table import mutant_dir
from kora_conformance.suites.plugin._manifest_rules import (
    clause_problem,
    reading_environ,
    requirements,
    unbounded,
    v2_problems,
)
from kora_conformance.suites.plugin._surface_probes import (
    PROBE_KEYWORD,
    RESULT_SHAPES,
    call_for_real,
    hook_payload,
)

UPSTREAM = Path(__file__).resolve().parent / "plugins_upstream"
#: The host's provider base classes, stood in for (kct_toolbox subclasses them: KC-PL-021).
STANDIN = Path(__file__).resolve().parent / "host_standin"
PLUGINS = sorted(p.name for p in UPSTREAM.iterdir() if (p / "plugin.yaml").is_file())
SURFACE = [f"KC-PL-{n:03d}" for n in range(7, 18)]
#: Which surface checks each upstream-shaped plugin exercises (the rest skip).
EXERCISED = {
    "kct_weather_tool": {"KC-PL-007", "KC-PL-010", "KC-PL-011", "KC-PL-012", "KC-PL-013"},
    "kct_notes_command": {"KC-PL-008", "KC-PL-012"},
    "kct_recall_memory": {"KC-PL-007"},
    "kct_pager_platform": {"KC-PL-014"},
    "kct_toolbox": {
        "KC-PL-007", "KC-PL-008", "KC-PL-010", "KC-PL-011", "KC-PL-012", "KC-PL-013",
        "KC-PL-016",
    },
}  # fmt: skip
#: Upstream calls slash command handlers with the raw string alone; these two plugins' handlers
#: take nothing else, which KC-PL-008 reports as a warning.
WARNED = {"kct_notes_command": {"KC-PL-008"}, "kct_toolbox": {"KC-PL-008"}}


@dataclasses.dataclass(frozen=True)
class Run:
    output: str
    report: dict[str, Any]

    def outcomes(self, name: str) -> dict[str, str]:
        target = next(t for t in self.report["targets"] if t["name"] == name)
        return {c["id"]: c["outcome"] for c in target["checks"]}

    def verdict(self, name: str) -> str:
        return str(next(t for t in self.report["targets"] if t["name"] == name)["verdict"])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("kit-surface")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in PLUGINS:
        args += ["--kora-plugin", str(UPSTREAM / name)]
    for mutant in ("pl007_narrow_hook", "pl011_raises_on_input", "pl009_block_as_string"):
        args += ["--kora-plugin", str(mutant_dir(mutant))]
    args += ["--kora-report", "r.json", "--kora-seed", "3"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}
    env["HOME"] = str(workdir)
    env["PYTHONPATH"] = os.pathsep.join([str(STANDIN), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    report = workdir / "r.json"
    assert report.is_file(), done.stdout + done.stderr
    return Run(done.stdout + done.stderr, json.loads(report.read_text(encoding="utf-8")))


def test_the_upstream_plugins_are_all_here() -> None:
    assert sorted(EXERCISED) == PLUGINS


@pytest.mark.parametrize("name", PLUGINS)
def test_upstream_shaped_plugins_certify_without_a_failure(run: Run, name: str) -> None:
    outcomes = run.outcomes(name)

    assert run.verdict(name) == "conformant"
    assert "failed" not in outcomes.values(), outcomes
    assert {i for i, o in outcomes.items() if o == "warned"} == WARNED.get(name, set())


@pytest.mark.parametrize("name", PLUGINS)
def test_each_surface_check_runs_exactly_where_the_plugin_registers_its_subject(
    run: Run, name: str
) -> None:
    outcomes = run.outcomes(name)
    ran = {i for i in SURFACE if outcomes[i] != "skipped"}

    assert ran == EXERCISED[name]


def test_failures_name_the_callback_the_keyword_and_the_example(run: Run) -> None:
    assert "on_session_start hook: hermes_plugins.pl007_narrow_hook.on_session_start(" in run.output
    assert "rejects model= (a keyword the host passes)" in run.output
    assert "tool 'page_fetch' raised KeyError: 'limit' for args={'page': ''}" in run.output
    assert "replay it with: --kora-seed 3 -k KC-PL-011" in run.output
    assert "pre_tool_call callback" in run.output
    assert "awaited, it gave a str, not a directive mapping" in run.output


def test_skips_say_what_the_plugin_does_not_register(run: Run) -> None:
    target = next(t for t in run.report["targets"] if t["name"] == "kct_recall_memory")
    messages = {c["id"]: c["message"] for c in target["checks"]}

    assert messages["KC-PL-010"] == "registers no tools"
    assert messages["KC-PL-008"] == "registers no slash commands"
    assert messages["KC-PL-015"] == "the manifest has no requires_hermes"


# --- applicability ------------------------------------------------------------------------


def test_applicability_reads_the_registration_counts() -> None:
    tools = Profile(True, registered=(("tool", 2),))
    identity_only = Profile(True, hook_names=("pre_agent_identity_set",))

    assert needs_tools(tools) is None
    assert needs_commands(tools) == "registers no slash commands"
    assert needs_callbacks(tools) is None
    assert needs_callbacks(identity_only) is not None
    assert needs_tools(Profile(False)) == "the plugin does not load (see KC-PL-001)"


# --- calling callbacks for real -------------------------------------------------------------


def narrow(session_id: str) -> None:
    pass


def tolerant(session_id: str, **kwargs: Any) -> str:
    return session_id


async def async_narrow(session_id: str) -> None:
    pass


def forwarding(*args: Any, **kwargs: Any) -> Any:
    return narrow(*args, **kwargs)


def raises_type_error_inside(**kwargs: Any) -> None:
    msg = "unsupported operand"
    raise TypeError(msg)


@pytest.mark.parametrize(
    ("fn", "rejected"),
    [
        (narrow, PROBE_KEYWORD),
        (tolerant, None),
        (async_narrow, PROBE_KEYWORD),
        (forwarding, PROBE_KEYWORD),
        (functools.partial(tolerant), None),
        (raises_type_error_inside, None),
    ],
)
def test_a_rejected_keyword_is_one_the_call_passed(fn: Any, rejected: str | None) -> None:
    call = call_for_real(fn, (), {"session_id": "s"})

    assert call.rejected_keyword == rejected


def test_a_host_keyword_a_narrow_callback_lacks_is_rejected_too() -> None:
    call = call_for_real(narrow, (), hook_payload("on_session_start"), fill=True)

    assert call.rejected_keyword in {"platform", "model", PROBE_KEYWORD}


def test_required_keywords_the_sample_lacks_are_filled_with_none() -> None:
    def needs_request(*, request: Any, **kwargs: Any) -> Any:
        return request

    call = call_for_real(needs_request, (), {}, fill=True)

    assert call.error is None
    assert call.result is None


def test_awaitables_are_awaited_even_inside_a_running_loop() -> None:
    async def transform(**kwargs: Any) -> str:
        return "replaced"

    async def inside() -> Any:
        return call_for_real(transform, (), {}, probe=False)

    call = asyncio.run(inside())

    assert call.awaited
    assert call.result == "replaced"


@pytest.mark.parametrize(
    ("hook", "result", "ok"),
    [
        ("pre_tool_call", {"action": "block", "message": "no"}, True),
        ("pre_tool_call", {"action": "approve"}, True),
        ("pre_tool_call", {"action": "modify", "args": {"x": 1}}, True),
        ("pre_tool_call", {"action": "block"}, False),
        ("pre_tool_call", {"action": "deny", "message": "no"}, False),
        ("pre_tool_call", "block", False),
        ("pre_llm_call", "context", True),
        ("pre_llm_call", {"context": "x"}, True),
        ("pre_llm_call", {"text": "x"}, False),
        # Nothing to add, as upstream reads it: it skips a mapping without a context.
        ("pre_llm_call", {}, True),
        ("pre_llm_call", {"context": None}, True),
        ("pre_llm_call", {"context": None, "extra": "x"}, False),
        ("pre_llm_call", {"context": 3}, False),
        ("transform_tool_result", "{}", True),
        ("transform_tool_result", {"result": 1}, False),
        ("transform_api_error_classification", {"reason": "overloaded"}, True),
        ("transform_api_error_classification", {"reason": ""}, False),
        ("pre_gateway_dispatch", {"action": "skip"}, True),
        ("pre_gateway_dispatch", {"action": "drop"}, False),
        ("pre_verify", {"decision": "block", "reason": "unfinished"}, True),
        ("pre_verify", {"decision": "block"}, False),
        ("pre_tts_synthesis", {"text": "hi"}, True),
        ("pre_transcription", ["language"], False),
    ],
)
def test_result_shapes_follow_the_hook_rules(hook: str, result: Any, ok: bool) -> None:
    assert (RESULT_SHAPES[hook].problem(result) is None) is ok


# --- manifest rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (">=0.19,<0.30", None),
        ("==0.21.3", None),
        ("!=0.20", None),
        (">0.20,<0.20.1", None),
        (">=0.30,<0.20", "admits no version"),
        (">0.20,<=0.20", "admits no version"),
        ("==1.0,!=1.0", "admits no version"),
        ("~=0.19", "is not an operator and a version"),
        (">=latest", "has no valid version"),
        (0.19, "not a string of version clauses"),
        ("", "not a string of version clauses"),
    ],
)
def test_version_clauses(text: object, problem: str | None) -> None:
    found = clause_problem(text, "requires_hermes")

    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ({"manifest_version": 3}, "manifest_version is 3, not 1 or 2"),
        ({"manifest_version": True}, "manifest_version is True"),
        ({"api_version": 0}, "api_version is 0, not an integer >= 1"),
        ({"api_version": "1"}, "api_version is '1'"),
        ({"requires_plugins": [{"version_range": ">=1"}]}, "neither an ID nor"),
        ({"requires_plugins": [{"id": "a", "version_range": ">=2,<1"}]}, "admits no version"),
        ({"requires_plugins": {"a": 1}}, "not a list of plugin IDs"),
        ({"python_dependencies": ["requests >= 2 ;;"]}, "is not PEP 508"),
        ({"python_dependencies": "requests"}, "not a list"),
        ({"config_schema": {"n": {"type": "int"}}}, "config_schema.n.type is 'int'"),
        ({"config_schema": {"n": {"type": "integer", "default": True}}}, "not of type integer"),
        ({"config_schema": {"n": {"type": "number", "default": "1"}}}, "not of type number"),
        ({"config_schema": {"n": {"required": "yes"}}}, "required is 'yes'"),
        ({"config_schema": ["n"]}, "not a mapping of keys"),
    ],
)
def test_v2_field_problems(manifest: dict[str, Any], problem: str) -> None:
    problems = v2_problems(manifest)

    assert len(problems) == 1
    assert problem in problems[0]


def test_well_formed_v2_fields_pass() -> None:
    manifest = {
        "manifest_version": 2,
        "api_version": 1,
        "requires_plugins": ["base", {"id": "other", "version_range": ">=1.0,<2"}],
        "python_dependencies": ["requests>=2.31,<3", "attrs==23.2.0"],
        "config_schema": {
            "prefix": {"type": "string", "default": "tb", "description": "x"},
            "limit": {"type": "number", "default": 3, "required": False},
        },
    }

    assert v2_problems(manifest) == []


@pytest.mark.parametrize(
    ("requirement", "open_ended"),
    [
        ("requests>=2.31", True),
        ("requests", True),
        ("requests>=2.31,<3", False),
        ("requests~=2.31", False),
        ("requests==2.31.0", False),
        ("pkg @ https://example.invalid/pkg-1.0.tar.gz", False),
    ],
)
def test_upper_bounds(requirement: str, open_ended: bool) -> None:
    assert unbounded(Requirement(requirement)) is open_ended


def test_requirements_keep_the_good_entries_and_name_the_bad() -> None:
    parsed, problems = requirements(["requests<3", 7])

    assert [str(r) for r in parsed] == ["requests<3"]
    assert problems == ["python_dependencies entry 7 is not a requirement string"]


def test_environment_reads_are_recorded_and_the_environment_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KCT_SET", "1")
    original = os.environ

    with reading_environ() as read:
        os.getenv("KCT_MISSING")
        _ = "KCT_ASKED" in os.environ
        _ = os.environ["KCT_SET"]

    assert os.environ is original
    assert read >= {"KCT_MISSING", "KCT_ASKED", "KCT_SET"}


BASE = """\
import json


def lookup(args, **kwargs):
    return json.dumps({"from": "base"})


def register(ctx):
    ctx.register_tool("lookup", "base", {"parameters": {"type": "object"}}, lookup)
"""


def test_a_name_held_by_a_required_plugin_is_a_collision(tmp_path: Path) -> None:
    for name, manifest in (
        ("kct_base", "name: kct_base\nprovides_tools: [lookup]\n"),
        ("kct_addon", "name: kct_addon\nrequires_plugins: [kct_base]\nprovides_tools: [lookup]\n"),
    ):
        (tmp_path / "plugins" / name).mkdir(parents=True)
        (tmp_path / "plugins" / name / "plugin.yaml").write_text(manifest)
        (tmp_path / "plugins" / name / "__init__.py").write_text(
            BASE.replace('"base"', f'"{name}"')
        )
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    args += ["--kora-plugin", str(tmp_path / "plugins" / "kct_addon"), "-k", "KC-PL-012"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}

    done = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )

    assert "'lookup' is already registered by plugin 'kct_base'" in done.stdout, done.stdout
    assert "loaded after the plugins it requires: kct_base" in done.stdout


def _tool(schema: dict[str, Any]) -> Any:
    from types import SimpleNamespace

    from reference_runtime import ToolRecord

    registration = SimpleNamespace(arguments={})
    return ToolRecord(
        name="lookup", toolset="t", schema=schema, handler=lambda args, **kw: "{}", plugin="p",
        check_fn=None, requires_env=(), is_async=False, description="Look it up.", emoji="",
        override=False, registration=registration,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        # No parameters means no arguments: upstream sends an empty object schema in its place.
        ({"name": "lookup", "description": "d"}, None),
        ({"name": "lookup", "parameters": {"type": "object", "properties": {}}}, None),
        ({"name": "lookup", "parameters": ["q"]}, "parameters is a list"),
        ({"name": "lookup", "parameters": {"type": "objekt"}}, "not a valid JSON Schema"),
        ({"name": "other", "parameters": {"type": "object"}}, "the schema names 'other'"),
    ],
)
def test_tool_schema_problems(schema: dict[str, Any], problem: str | None) -> None:
    from kora_conformance.model._suites import implementations

    implementations()  # the suites load under kora_conformance.suites.<area>.<module>
    schema_problems = importlib.import_module(
        "kora_conformance.suites.plugin.tools"
    ).schema_problems
    found = schema_problems(_tool(schema))
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found
