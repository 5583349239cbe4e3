"""KC-PL-013 to KC-PL-017: what the manifest declares, held against what the plugin does, and
the manifest's version fields.

The manifest is read as written (``plugin.yaml`` itself), so fields the reference runtime does not
interpret, such as ``provides_commands``, are seen too. The version and v2 field checks read only
the file; the declaration checks load the plugin and compare.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from kora_conformance import CheckContext, Profile, Suite, all_of, needs_load
from kora_conformance.suites.plugin._manifest_rules import (
    V2_FIELDS,
    clause_problem,
    raw_manifest,
    reading_environ,
    requirements,
    unbounded,
    v2_problems,
)
from reference_runtime import HERMES_SURFACE, LoadedPlugin, Runtime

suite = Suite("manifest")

#: Every kind the surface registers (``tool``, ``command``, ``memory_provider``, ...).
_KINDS: Final = frozenset(method.kind for method in HERMES_SURFACE)


def has_manifest(profile: Profile) -> str | None:
    """Skip plugins without a ``plugin.yaml``: they declare nothing to compare."""
    if profile.manifest_path is None:
        return "no plugin.yaml, so nothing is declared (an entry-point plugin without one)"
    return None


def _manifest(ctx: CheckContext) -> tuple[Path, dict[str, Any]]:
    path = ctx.profile.manifest_path
    assert path is not None  # has_manifest
    return path, raw_manifest(path)


def _kind_of(field: str) -> str | None:
    """The surface kind a ``provides_<kind>s`` field lists (``provides_commands``:
    ``command``; ``provides_web_search_providers``: ``web_search``), or ``None``."""
    stem = field.removeprefix("provides_")
    for kind in (stem.removesuffix("s"), stem.removesuffix("s").removesuffix("_provider")):
        if kind in _KINDS:
            return kind
    return None


def _names(runtime: Runtime, plugin: str, kind: str) -> list[str]:
    keys = [r.key for r in runtime.registrations(plugin, kind=kind)]
    # A skill is known as <plugin>:<name>; the manifest lists the name.
    keys = [k.partition(":")[2] if kind == "skill" else k for k in keys]
    return list(dict.fromkeys(keys))


def _listed(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


@suite.check("KC-PL-013", applies=all_of(needs_load, has_manifest))
def manifest_declares_what_it_provides(ctx: CheckContext) -> None:
    path, manifest = _manifest(ctx)
    runtime, _, _ = ctx.load()
    name = ctx.target.name
    fields = {
        field: kind
        for field in manifest
        if isinstance(field, str)
        and field.startswith("provides_")
        and field != "provides_hooks"
        and (kind := _kind_of(field)) is not None
    }
    tools = _names(runtime, name, "tool")
    if tools and "provides_tools" not in fields:
        fields["provides_tools"] = "tool"
    if not fields:
        ctx.skip("declares no provides_* list (hooks aside: KC-PL-004) and registers no tools")
    problems = []
    for field, kind in fields.items():
        registered = _names(runtime, name, kind)
        if field not in manifest:
            problems.append(f"registers tool(s) {', '.join(tools)} but {path.name} has no {field}")
            continue
        declared = _listed(manifest[field])
        if declared is None:
            problems.append(f"{field} is {manifest[field]!r}, not a list of names")
            continue
        if undeclared := [n for n in registered if n not in declared]:
            problems.append(f"registered but not in {field}: {', '.join(undeclared)}")
        if phantom := [n for n in declared if n not in registered]:
            problems.append(f"in {field} but not registered: {', '.join(phantom)}")
    ctx.fail_if(problems, expected="each provides_* list to name exactly what is registered")


def _declared_env(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    names = [v if isinstance(v, str) else v.get("name") if isinstance(v, dict) else None
             for v in value]  # fmt: skip
    return [n for n in names if isinstance(n, str) and n]


def _required_env(runtime: Runtime, plugin: str) -> dict[str, str]:
    """Variable → the registration requiring it."""
    required: dict[str, str] = {}
    for record in runtime.registrations(plugin):
        if record.kind == "tool":
            names, what = record["requires_env"] or (), f"tool {record.key!r}"
        elif record.kind == "platform":
            names, what = record["required_env"] or (), f"platform {record.key!r}"
        else:
            continue
        for env in names:
            required.setdefault(str(env), what)
    return required


def _probe_availability(runtime: Runtime, plugin: str) -> None:
    """Call the plugin's availability checks, as the host does before offering a tool or a
    platform (their environment reads are what is recorded)."""
    for record in runtime.registrations(plugin):
        check = record.arguments.get("check_fn") if record.kind in {"tool", "platform"} else None
        if callable(check):
            with contextlib.suppress(Exception):  # only the reads matter here
                check()


def _mentioned(plugin: LoadedPlugin, names: Iterable[str]) -> set[str]:
    """Which of ``names`` the plugin's source files mention (read at call time, say)."""
    origin = getattr(plugin.module, "__file__", None)
    if origin is None:
        return set()
    root = Path(origin).parent
    sources = root.rglob("*.py") if Path(origin).name == "__init__.py" else [Path(origin)]
    text = ""
    for source in sources:
        try:
            text += source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return {n for n in names if n in text}


@suite.check("KC-PL-014", applies=all_of(needs_load, has_manifest))
def manifest_declares_its_environment(ctx: CheckContext) -> None:
    path, manifest = _manifest(ctx)
    declared = _declared_env(manifest.get("requires_env"))
    with reading_environ() as read:
        runtime, _, plugin = ctx.load()
        _probe_availability(runtime, ctx.target.name)
    required = _required_env(runtime, ctx.target.name)
    if not declared and not required:
        ctx.skip("declares no requires_env and its registrations require no environment")
    problems = [
        f"{what} requires {env}, which requires_env in {path.name} does not list"
        for env, what in required.items()
        if env not in declared
    ]
    unused = [env for env in declared if env not in required and env not in read]
    mentioned = _mentioned(plugin, unused)
    problems += [
        f"requires_env lists {env}, which no registration requires and the plugin never reads"
        for env in unused
        if env not in mentioned
    ]
    ctx.fail_if(problems, expected="requires_env to list exactly the environment the plugin uses")


@suite.check("KC-PL-015", applies=has_manifest)
def satisfiable_requires_hermes(ctx: CheckContext) -> None:
    path, manifest = _manifest(ctx)
    if "requires_hermes" not in manifest:
        ctx.skip("the manifest has no requires_hermes")
    problem = clause_problem(manifest["requires_hermes"], "requires_hermes")
    if problem is not None:
        ctx.fail(
            expected='requires_hermes as clauses such as ">=0.19,<0.30" that a version meets',
            seen=f"{problem} ({path})",
            detail="the host ignores a requires_hermes it cannot parse, and refuses to load a "
            "plugin whose requires_hermes its version does not meet",
        )


@suite.check("KC-PL-016", applies=has_manifest)
def well_formed_v2_fields(ctx: CheckContext) -> None:
    path, manifest = _manifest(ctx)
    if not any(field in manifest for field in V2_FIELDS):
        ctx.skip("the manifest has none of the v2 fields " + ", ".join(V2_FIELDS))
    problems = [f"{problem} ({path.name})" for problem in v2_problems(manifest)]
    ctx.fail_if(problems, expected="well-formed manifest v2 fields")


@suite.check("KC-PL-017", applies=has_manifest)
def bounded_python_dependencies(ctx: CheckContext) -> None:
    _, manifest = _manifest(ctx)
    parsed, _ = requirements(manifest.get("python_dependencies"))
    if not parsed:
        ctx.skip("the manifest lists no python_dependencies")
    problems = [f"{req} has no upper bound" for req in parsed if unbounded(req)]
    ctx.fail_if(problems, expected="an upper bound on every python_dependencies requirement")
