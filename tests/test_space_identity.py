"""The identity and loading checks over their rules' space: conforming variants stay conformant,
the mutants the earlier, narrower checks let through are caught and named by the moment they
break, and the helpers underneath judge case by case.

One certification of the plugins under tests/plugins_space/ (each a conforming variant of a
dimension the checks now probe: async and raw-hook providers, per-engine prompts, nested
metadata, a spec subclass, entry points of both forms shipping a manifest, lazily registered
known hooks, reload-safe tools) and of a few new mutants runs in a subprocess; the tests read
its report and output. Mutant-by-mutant verdicts are tests/test_kit_mutants.py's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kora_conformance.harness._reload import describe_changes, registrations
from kora_conformance.mutants._table import mutant_dir
from kora_conformance.suites.identity._claimants import Claimant, is_spec, snapshot
from kora_conformance.suites.identity.checks import _shared_views, spec_problems
from reference_runtime import IdentitySpec, Runtime, RuntimeConfig

SPACE = Path(__file__).resolve().parent / "plugins_space"
# The identity and loading variants (kct_); the surface checks have their own (kcs_).
PLUGINS = sorted(p.name for p in SPACE.iterdir() if p.is_dir() and p.name.startswith("kct_"))
#: The checks this file's run certifies: identity, and loading (KC-PL-001 to KC-PL-006).
CHECKS = [f"KC-ID-00{n}" for n in range(1, 8)] + [f"KC-PL-00{n}" for n in range(1, 7)]
#: Conforming variants without an identity provider: the identity checks skip for them.
NO_IDENTITY = {"kct_lazy_known_hook", "kct_reload_tools"}
MUTANTS = (
    "id001_model_lookup",
    "id002_live_view",
    "id003_declines_extras",
    "id005_dated_prompt",
    "id005_minted_at_import",
    "id006_compacts_history",
    "pl001_second_runtime",
    "pl003_late_hook",
    "pl006_middleware_doubled",
)


@dataclasses.dataclass(frozen=True)
class Run:
    output: str
    report: dict[str, Any]

    def outcomes(self, name: str) -> dict[str, str]:
        target = next(t for t in self.report["targets"] if t["name"] == name)
        return {c["id"]: c["outcome"] for c in target["checks"] if c["id"] in CHECKS}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("kit-space")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name in PLUGINS:
        args += ["--kora-plugin", str(SPACE / name)]
    for mutant in MUTANTS:
        args += ["--kora-plugin", str(mutant_dir(mutant))]
    args += ["-k", " or ".join(CHECKS), "--kora-report", "r.json", "--kora-seed", "5"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "PYTEST_"))}
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    report = workdir / "r.json"
    assert report.is_file(), done.stdout + done.stderr
    return Run(done.stdout + done.stderr, json.loads(report.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", PLUGINS)
def test_conforming_variants_pass_every_identity_and_loading_check(run: Run, name: str) -> None:
    outcomes = run.outcomes(name)
    expected_skips = {c for c in CHECKS if c.startswith("KC-ID")} if name in NO_IDENTITY else set()

    assert {c for c, o in outcomes.items() if o != "passed"} == expected_skips, outcomes
    assert all(outcomes[c] == "skipped" for c in expected_skips)


@pytest.mark.parametrize(
    "line",
    [
        # KC-ID-001: an engine of other settings, not only the default one.
        "seen:     identity provider provider raised KeyError: 'kora-conformance-other-model' "
        "(on a call with another engine (other model and max_tokens))",
        # KC-ID-002: the content of a spec after later calls, against right after its call.
        "identity_metadata['last_model']: 'kora-conformance-other-model' -> 'claude-sonnet-4-6'",
        # KC-ID-003: the result with unknown keywords, against the result without.
        "returned None instead of what it returns without them",
        # KC-ID-005: the clock moved, and a re-import.
        "on a call after the clock moved 366 days and 1 h 1 min 1 s differs from call 1",
        "on a call after re-importing the plugin's modules differs from call 1",
        # KC-ID-006: the second request of an engine, a conversation with history.
        "expected: its second request (a conversation with history): its system content",
        # KC-PL-001: a second runtime in the process.
        "seen:     it loaded into the first runtime, but not into a second one:",
        # KC-PL-003: a hook registered while the plugin is used.
        "seen:     registered unknown hook(s) 'on_sesion_end' (did you mean 'on_session_end'?)",
        # KC-PL-006: a kind other than hooks and providers, counted.
        "seen:     after one reload of hermes_plugins.pl006_middleware_doubled: added middleware "
        "'tool_request' (callback=hermes_plugins.pl006_middleware_doubled.audit_tool_request, "
        "kind='tool_request') x1",
    ],
)
def test_new_mutants_are_caught_where_they_break(run: Run, line: str) -> None:
    assert line in run.output


def test_each_new_mutant_fails_its_own_check(run: Run) -> None:
    for mutant in MUTANTS:
        check = f"KC-{mutant[:2].upper()}-{mutant[2:5]}"
        assert run.outcomes(mutant)[check] == "failed", (mutant, run.outcomes(mutant))


# --- the helpers, case by case ------------------------------------------------------------------


def _spec(**metadata: Any) -> IdentitySpec:
    return IdentitySpec("", "You are a probe.", {"agent_name": "probe", **metadata})


def test_a_spec_built_by_the_constructor_is_well_formed() -> None:
    assert spec_problems(_spec(tags=("a",), limits={"n": 1})) == []


class _UpdatableView(dict[str, Any]):
    """A mapping that refuses item assignment but not update()."""

    def __setitem__(self, key: str, value: Any) -> None:
        msg = "read-only"
        raise TypeError(msg)


def test_metadata_that_changes_through_update_is_not_read_only() -> None:
    spec = _spec()
    object.__setattr__(spec, "identity_metadata", _UpdatableView(agent_name="probe"))

    problems = spec_problems(spec)

    assert problems == ["identity_metadata is a _UpdatableView, a mutable mapping (it must be "
                        "read-only)"]  # fmt: skip


def test_a_snapshot_sees_a_nested_value_change_that_equality_does_not() -> None:
    shared: list[str] = []
    first, second = _spec(engines=shared), _spec(engines=shared)
    before = snapshot(first)

    shared.append("engine 2")

    assert first == second  # both show the same list: == cannot tell
    assert snapshot(first) != before


def test_a_snapshot_compares_content_across_classes() -> None:
    @dataclasses.dataclass(frozen=True)
    class Reimported(IdentitySpec):
        pass

    spec = _spec()
    again = Reimported(spec.soul_md_content, spec.system_prompt_content, spec.identity_metadata)

    assert spec != again  # a dataclass's == is False across classes
    assert snapshot(spec) == snapshot(again)


def test_a_lookalike_posing_as_the_class_is_not_a_spec() -> None:
    class Lookalike:
        soul_md_content = ""
        system_prompt_content = "x"
        identity_metadata = types.MappingProxyType({})

        @property  # type: ignore[misc]
        def __class__(self) -> type:
            return IdentitySpec

    fake = Lookalike()
    claimant = Claimant("provider", lambda **_: fake)

    assert isinstance(fake, IdentitySpec)  # what the runtime's wrapper checks
    assert not is_spec(fake)
    problem = claimant.problem(fake)
    assert problem is not None
    assert "Lookalike posing as IdentitySpec" in problem


def test_registrations_count_callables_by_name_for_every_kind(
    make_plugin: Any, plugins_root: Path
) -> None:
    make_plugin(
        "counted",
        "def audit(request=None, **kwargs):\n    return None\n\n\n"
        "def register(ctx):\n"
        "    ctx.register_middleware('tool_request', audit)\n"
        "    ctx.register_middleware('tool_request', audit)\n",
    )
    runtime = Runtime(RuntimeConfig(enabled=("counted",), plugin_dirs=(plugins_root,)))
    plugin = runtime.load().plugin("counted")
    assert plugin is not None

    counts = registrations(runtime, plugin)

    line = "middleware 'tool_request' (callback=hermes_plugins.counted.audit, kind='tool_request')"
    assert counts == {line: 2}
    assert describe_changes(counts, counts - Counter({line: 1})) == f"dropped {line} x1"


#: A dict this module holds, for a spec whose metadata is a view over it.
HELD_METADATA: dict[str, Any] = {"agent_name": "probe"}


def test_a_view_over_a_dict_someone_holds_is_not_read_only() -> None:
    private = _spec()
    leaky = _spec()
    object.__setattr__(leaky, "identity_metadata", types.MappingProxyType(HELD_METADATA))

    assert _shared_views([private, private]) == []
    problems = _shared_views([private, leaky])
    assert len(problems) == 1
    assert f"module {__name__}'s globals also holds" in problems[0]
