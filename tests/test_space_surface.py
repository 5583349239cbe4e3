"""The spaces of the Hermes-surface checks (KC-PL-007 to KC-PL-017): the conforming plugins at
their edges certify without a finding, and the rules underneath hold case by case.

The plugins under tests/plugins_space/ do, within the rules, what the sharpened checks probe:
stateful and async callbacks, payload-dependent shapes, tools registered again or after
``register()``, ``$ref`` inside a schema, environment read with ``.get()``, pinned direct
references. One certification of them runs in a subprocess; the rest are unit tests.
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from packaging.requirements import Requirement

from kora_conformance.model._suites import implementations
from kora_conformance.suites.plugin._arguments import tool_arguments
from kora_conformance.suites.plugin._manifest_rules import (
    CONFIG_ENTRY_KEYS,
    misspelt_keys,
    reading_environ,
    unbounded,
    v2_problems,
)
from kora_conformance.suites.plugin._surface_probes import PROBE_KEYWORD, differential

SPACE = Path(__file__).resolve().parent / "plugins_space"
# The surface variants (kcs_); the identity and loading checks have their own (kct_).
PLUGINS = sorted(
    p.name for p in SPACE.iterdir() if p.name.startswith("kcs_") and (p / "plugin.yaml").is_file()
)
SURFACE = {f"KC-PL-{n:03d}" for n in range(7, 18)}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("space-surface")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in PLUGINS:
        args += ["--kora-plugin", str(SPACE / name)]
    args += ["--kora-report", "r.json", "--kora-seed", "5"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_", "KCS_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    path = workdir / "r.json"
    assert path.is_file(), done.stdout + done.stderr
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["output"] = done.stdout + done.stderr
    return data


@pytest.mark.parametrize("name", PLUGINS)
def test_plugins_at_the_edges_of_the_space_certify_without_a_finding(
    report: dict[str, Any], name: str
) -> None:
    target = next(t for t in report["targets"] if t["name"] == name)
    outcomes = {c["id"]: c["outcome"] for c in target["checks"]}

    assert target["verdict"] == "conformant", report["output"]
    assert not {i for i, o in outcomes.items() if o in {"failed", "warned", "error"}}, outcomes


def test_the_sharpened_checks_ran_on_them(report: dict[str, Any]) -> None:
    ran = {
        c["id"]
        for t in report["targets"]
        for c in t["checks"]
        if c["id"] in SURFACE and c["outcome"] == "passed"
    }

    assert ran >= SURFACE - {"KC-PL-015"}


# --- the differential of KC-PL-007 and KC-PL-008 ------------------------------------------


def test_a_callback_that_checks_its_kwargs_is_caught_by_the_differential() -> None:
    def strict(query: str, **options: Any) -> str:
        if set(options) - {"session_id"}:
            raise ValueError(options)
        return query

    _, change = differential(strict, ("q",), {"session_id": "s"})

    assert change is not None
    assert "only when the unknown keyword is passed" in change


def test_a_result_that_changes_only_with_the_keyword_is_caught() -> None:
    def usage(raw: str, **options: Any) -> str:
        return "usage" if options else raw

    _, change = differential(usage, ("x",))

    assert change is not None
    assert "usage" in change


def test_a_callback_that_differs_on_every_call_is_judged_by_raising_only() -> None:
    counter = itertools.count()

    def count(**kwargs: Any) -> int:
        return next(counter)

    call, change = differential(count)

    assert change is None
    assert call.error is None


def test_a_callback_that_ignores_the_keyword_passes_sync_and_async() -> None:
    def same(raw: str, **kwargs: Any) -> str:
        return raw.upper()

    async def same_async(raw: str, **kwargs: Any) -> str:
        return raw.upper()

    assert differential(same, ("a",))[1] is None
    assert differential(same_async, ("a",))[1] is None


def test_a_callback_that_reports_its_keywords_is_not_a_change() -> None:
    def debug(args: dict[str, Any], **kwargs: Any) -> str:
        return json.dumps({"args": args, "keywords": sorted(kwargs)})

    assert differential(debug, ({},), {"task_id": "t"})[1] is None


def test_a_narrow_callback_is_a_rejection_not_a_change() -> None:
    def narrow(raw: str) -> str:
        return raw

    call, change = differential(narrow, ("a",))

    assert call.rejected_keyword == PROBE_KEYWORD
    assert change is None


# --- payload variants of KC-PL-009 -------------------------------------------------------


def _payloads() -> Any:
    implementations()
    return importlib.import_module("kora_conformance.suites.plugin._payloads")


def test_payload_variants_start_with_the_sample_and_change_every_field_early() -> None:
    payloads = _payloads()
    variants = list(payloads.payload_variants("pre_llm_call", 4))

    assert variants[0]["is_first_turn"] is True
    assert len(variants) == 4
    changed = {k for v in variants[1:] for k in v if v[k] != variants[0][k]}
    assert changed == {"is_first_turn", "user_message", "conversation_history"}


def test_payload_variants_include_the_plugins_own_tools() -> None:
    variants = list(_payloads().payload_variants("pre_tool_call", 50, ["my_tool"]))

    assert any(v["tool_name"] == "my_tool" for v in variants)
    assert len(variants) == len({json.dumps(v, sort_keys=True) for v in variants})


# --- KC-PL-010's references ------------------------------------------------------------------


def _dangling(parameters: dict[str, Any]) -> list[str]:
    implementations()
    found: list[str] = importlib.import_module(
        "kora_conformance.suites.plugin.tools"
    ).dangling_refs(parameters)
    return found


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"type": "object", "properties": {"u": {"$ref": "#/$defs/u"}}, "$defs": {"u": {}}}, None),
        ({"type": "object", "properties": {"u": {"$ref": "#/definitions/a~1b"}},
          "definitions": {"a/b": {}}}, None),
        ({"type": "object", "properties": {"n": {"$ref": "#"}}}, None),
        ({"type": "object", "properties": {"u": {"$ref": "#unit"}},
          "$defs": {"u": {"$anchor": "unit"}}}, None),
        ({"type": "object", "properties": {"u": {"$ref": "#/$defs/u"}}}, "resolves to nothing"),
        ({"type": "object", "properties": {"u": {"$ref": "units.json#/u"}}}, "outside the schema"),
        ({"type": "object", "properties": {"u": {"$ref": "#unit"}}}, "names no $anchor"),
        # A property may be named "$ref": only string values are references.
        ({"type": "object", "properties": {"$ref": {"type": "string"}}}, None),
    ],
)  # fmt: skip
def test_references_must_resolve_inside_the_schema(
    parameters: dict[str, Any], problem: str | None
) -> None:
    found = _dangling(parameters)

    if problem is None:
        assert found == []
    else:
        assert len(found) == 1
        assert problem in found[0]


# --- tool arguments: the shim over hypothesis-jsonschema ---------------------------------


# Health checks off: on a loaded machine drawing is slow, which is not what this test is about.
@settings(max_examples=10, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(tool_arguments({"type": "object", "properties": {"a": {"type": "integer"}}}))
def test_object_schemas_draw_with_the_installed_hypothesis(args: Any) -> None:
    assert isinstance(args, dict)
    assert all(isinstance(k, str) for k in args)
    assert not isinstance(args.get("a", 0), bool)
    assert isinstance(args.get("a", 0), int)


# --- the manifest rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "open_ended"),
    [
        ("sdk @ git+https://example.invalid/sdk.git", True),
        ("sdk @ git+ssh://git@example.invalid/sdk.git", True),
        ("sdk @ git+https://example.invalid/sdk.git@v1.2.0", False),
        ("sdk @ git+https://example.invalid/sdk.git@3f2c1a9#egg=sdk", False),
        ("sdk @ https://example.invalid/sdk-1.0.tar.gz", False),
        ("sdk @ file:///opt/wheels/sdk-1.0-py3-none-any.whl", False),
    ],
)
def test_direct_references_are_pinned_by_a_file_or_a_revision(
    requirement: str, open_ended: bool
) -> None:
    assert unbounded(Requirement(requirement)) is open_ended


@pytest.mark.parametrize(
    ("entry", "flagged"),
    [
        ({"type": "integer", "defualt": 3}, ["defualt"]),
        ({"type": "integer", "defaults": 3}, ["defaults"]),
        ({"types": "integer"}, ["types"]),
        ({"type": "string", "secret": True, "choices": ["a"], "env": "X"}, []),
    ],
)
def test_misspelt_entry_keys_are_named_and_unknown_ones_left_alone(
    entry: dict[str, Any], flagged: list[str]
) -> None:
    found = misspelt_keys(entry, CONFIG_ENTRY_KEYS, "config_schema.n")

    assert [p.split("'")[1] for p in found] == flagged


def test_a_requires_plugins_range_under_the_wrong_key_is_a_problem() -> None:
    problems = v2_problems({"requires_plugins": [{"id": "base", "version": ">=1"}]})

    assert problems == [
        "requires_plugins[base] has 'version', which the host ignores: did you mean "
        "'version_range'?"
    ]


def test_only_subscripts_of_unset_variables_are_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KCS_UNSET", raising=False)
    monkeypatch.setenv("KCS_SET", "1")

    with reading_environ() as read:
        os.environ.get("KCS_UNSET")
        os.getenv("KCS_UNSET")
        _ = "KCS_UNSET" in os.environ
        _ = os.environ["KCS_SET"]
        with pytest.raises(KeyError):
            os.environ["KCS_UNSET_TOO"]

    assert set(read.needed) == {"KCS_UNSET_TOO"}
    assert read.needed["KCS_UNSET_TOO"][0] == __file__
