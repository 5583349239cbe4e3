"""KC-PL-013 to KC-PL-017: what the manifest declares, held against what the plugin does, and
the manifest's version fields.

The manifest is read as written (``plugin.yaml`` itself), so fields the reference runtime does not
interpret, such as ``provides_commands``, are seen too. The version and v2 field checks read only
the file; the declaration checks load the plugin and compare.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from kora_conformance import CheckContext, Profile, Suite, all_of, needs_load
from kora_conformance.suites.plugin._bounded import BoundedCalls
from kora_conformance.suites.plugin._manifest_rules import (
    V2_FIELDS,
    EnvironReads,
    clause_problem,
    raw_manifest,
    reading_environ,
    requirements,
    unbounded,
    v2_problems,
)
from kora_conformance.suites.plugin._surface_probes import hook_payload
from reference_runtime import HERMES_SURFACE, IDENTITY_HOOK, LoadedPlugin, Runtime

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


def _run_callbacks(ctx: CheckContext, runtime: Runtime) -> None:
    """Call the plugin's hook callbacks (identity aside), slash commands and tool handlers once
    each, as the host does (sample payloads, an empty argument string, no arguments), ignoring
    what they return or raise: what they register or read while running is what matters. Each
    call is waited for a bounded time (see ``_bounded``); one still running then is named in
    the check's note, and what it would have registered later is not seen."""
    calls = BoundedCalls.for_check(ctx)
    for record in runtime.registrations(ctx.target.name):
        what = f"{record.kind} {record.key!r}"
        # A command that exits the process (a /quit of its own) has nothing more to register.
        with contextlib.suppress(SystemExit):
            if record.kind == "hook" and record.key != IDENTITY_HOOK:
                payload = hook_payload(record.key)
                calls.call(what, record["callback"], (), payload, probe=False, fill=True)
            elif record.kind == "command":
                calls.call(what, record["handler"], ("",), probe=False)
            elif record.kind == "tool":
                calls.call(what, record["handler"], ({},), {"task_id": "kc-task"}, probe=False)
    if calls.unjudged:
        ctx.note("; ".join(calls.unjudged))


@suite.check("KC-PL-013", applies=all_of(needs_load, has_manifest))
def manifest_declares_what_it_provides(ctx: CheckContext) -> None:
    """Space: every ``provides_<kind>s`` list the manifest has (and ``provides_tools`` as soon
    as a tool is registered), both ways (declared but not registered, registered but not
    declared), over what the plugin registers in ``register()`` and later, from its hooks,
    commands and tool handlers (each run once as the host would); names compared exactly."""
    path, manifest = _manifest(ctx)
    runtime, _, _ = ctx.load()
    name = ctx.target.name
    # Registration is not over when register() returns: a hook may add a tool once a session
    # starts. A list that leaves those out is as wrong as one that misses a register() call.
    _run_callbacks(ctx, runtime)
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


def _sources(plugin: LoadedPlugin) -> list[Path]:
    origin = getattr(plugin.module, "__file__", None)
    if origin is None:
        return []
    if Path(origin).name == "__init__.py":
        return sorted(Path(origin).parent.rglob("*.py"))
    return [Path(origin)]


def _string_constants(sources: Iterable[Path]) -> str:
    """The plugin's string literals, docstrings aside, joined: the names its code can look up
    (a comment or a docstring that mentions a variable reads nothing)."""
    found = []
    for source in sources:
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        docstrings = {id(doc) for doc in _docstrings(tree)}
        found += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ]
    return "\n".join(found)


def _docstrings(tree: ast.Module) -> Iterator[ast.Constant]:
    """The docstring nodes of a module and of its classes and functions: prose, not code."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                yield first.value


def _mentioned(plugin: LoadedPlugin, names: Iterable[str]) -> set[str]:
    """Which of ``names`` the plugin's code names in a string literal (read in a code path the
    probes did not take, say)."""
    text = _string_constants(_sources(plugin))
    return {n for n in names if n in text}


def _needed_by_plugin(plugin: LoadedPlugin, read: EnvironReads) -> dict[str, str]:
    """Variable → where the plugin's own code read it with ``os.environ[...]`` while unset."""
    files = {str(source.resolve()) for source in _sources(plugin)}
    needed = {}
    for env, (filename, line) in read.needed.items():
        with contextlib.suppress(OSError):
            if str(Path(filename).resolve()) in files:
                needed[env] = f"{Path(filename).name}:{line}"
    return needed


@suite.check("KC-PL-014", applies=all_of(needs_load, has_manifest))
def manifest_declares_its_environment(ctx: CheckContext) -> None:
    """Space: the environment a plugin uses at import, in ``register()``, in its availability
    checks and when its tools, hooks and commands are called (once each, as the host would);
    both ways. A variable is needed when a registration requires it (a tool's
    ``requires_env``, a platform's ``required_env``) or when the plugin's own code reads it
    with ``os.environ[name]`` while it is unset; every needed variable must be listed. A
    listed variable must be needed, read in any way (``os.environ.get``, ``os.getenv``,
    ``in``), or named in a string literal of the plugin's code (not a comment or docstring)."""
    path, manifest = _manifest(ctx)
    declared = _declared_env(manifest.get("requires_env"))
    with reading_environ() as read:
        runtime, _, plugin = ctx.load()
        _probe_availability(runtime, ctx.target.name)
        _run_callbacks(ctx, runtime)
    required = _required_env(runtime, ctx.target.name)
    needed = _needed_by_plugin(plugin, read)
    if not declared and not required and not needed:
        ctx.skip("declares no requires_env and neither its registrations nor its code need any")
    problems = [
        f"{what} requires {env}, which requires_env in {path.name} does not list"
        for env, what in required.items()
        if env not in declared
    ]
    problems += [
        f"the plugin reads {env} with os.environ[...] ({where}) and cannot do without it, "
        f"but requires_env in {path.name} does not list it"
        for env, where in needed.items()
        if env not in declared and env not in required
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
    """Space: the value's YAML type (a string, not a number or a list), each comma-separated
    clause's form (one of the six operators the host reads and a PEP 440 version; no other
    separator, no empty clause, no other range syntax), and satisfiability: some version meets
    every clause, probed at each bound, just above and below it, and far off."""
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
    """Space: each v2 field present, its type and its values (``manifest_version``,
    ``api_version``, each ``requires_plugins`` entry and its range, each
    ``python_dependencies`` entry, each ``config_schema`` entry's type, default, flags), and the
    keys of the entries the host reads by name (a misspelt ``version_range`` or ``default`` is
    silently dropped by the host, so it fails here)."""
    path, manifest = _manifest(ctx)
    if not any(field in manifest for field in V2_FIELDS):
        ctx.skip("the manifest has none of the v2 fields " + ", ".join(V2_FIELDS))
    problems = [f"{problem} ({path.name})" for problem in v2_problems(manifest)]
    ctx.fail_if(problems, expected="well-formed manifest v2 fields")


@suite.check("KC-PL-017", applies=has_manifest)
def bounded_python_dependencies(ctx: CheckContext) -> None:
    """Space: every ``python_dependencies`` requirement, by form: a specifier set (bounded by
    ``<``, ``<=``, ``==``, ``~=`` or ``===``; ``>=``/``>``/``!=`` alone are not), a direct
    reference to a file (pinned), or to a version control repository (pinned only with an
    ``@revision``)."""
    _, manifest = _manifest(ctx)
    parsed, _ = requirements(manifest.get("python_dependencies"))
    if not parsed:
        ctx.skip("the manifest lists no python_dependencies")
    problems = [
        f"{req} names no revision, so it installs whatever the repository's default branch holds"
        if req.url
        else f"{req} has no upper bound"
        for req in parsed
        if unbounded(req)
    ]
    ctx.fail_if(problems, expected="an upper bound on every python_dependencies requirement")
