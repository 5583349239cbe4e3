"""KC-PL-010 to KC-PL-012: the plugin's tools and commands as the model and the user meet them.

Schemas are validated with ``jsonschema`` in the shape the host sends the model; handlers are
called with arguments ``hypothesis-jsonschema`` generates from those schemas (the session's seed
and example budget), with the network blocked; names are held against the host's own and those
already taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import unquote

# Imported with the suite, before any check's sandbox opens: a sandbox drops the modules first
# imported inside it, which would re-import jsonschema for every check.
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from kora_conformance import CheckContext, Suite, needs_load, needs_tools
from kora_conformance.suites.plugin._arguments import tool_arguments
from kora_conformance.suites.plugin._bounded import BoundedCalls
from kora_conformance.suites.plugin._manifest_rules import raw_manifest
from kora_conformance.suites.plugin._recording import (
    RegisterCall,
    recording_registrations,
    same_callable,
)
from kora_conformance.suites.plugin._surface_probes import (
    BUILTIN_TOOLS,
    PROBE_KEYWORD,
    model_tool_definition,
    tool_parameters,
)
from kora_conformance.suites.plugin._tool_calls import Undrawable, find_breach
from reference_runtime import ToolRecord, describe_callable

suite = Suite("tools")

#: The surface rules whose breach means a name was taken: the runtime refuses the registration
#: with a warning, and the plugin loads without it.
COLLISION_RULES: Final = (
    "tool.shadowing",
    "command.builtin",
    "command.unique",
    "cli_command.builtin",
    "cli_command.unique",
)
_NAMED_KINDS: Final = ("tool", "command", "cli_command")
#: At most this many generated calls per tool (fewer when --kora-max-examples says so): a
#: handler that mishandles a shape of input usually does so within the first few.
TOOL_EXAMPLES: Final = 25


def schema_problems(tool: ToolRecord) -> list[str]:
    """What is wrong with ``tool``'s schema as the model would receive it (empty: valid)."""
    schema = tool.schema
    problems = []
    inner = schema.get("name")
    if inner is not None and inner != tool.name:
        problems.append(f"the schema names {inner!r}, the tool is registered as {tool.name!r}")
    description = schema.get("description", tool.description)
    if not isinstance(description, str):
        problems.append(f"description is a {type(description).__name__}, not a string")
    parameters = tool_parameters(schema)
    if not isinstance(parameters, Mapping):
        problems.append(
            f"parameters is a {type(parameters).__name__}, not a JSON Schema of the arguments"
        )
        return problems
    try:
        model_tool_definition(tool.name, schema, tool.description)
    except (TypeError, ValueError) as exc:
        problems.append(f"the schema cannot be sent as JSON: {exc}")
        return problems
    try:
        validator_for(parameters).check_schema(dict(parameters))
    except SchemaError as exc:
        at = "/".join(str(p) for p in exc.path) or "parameters"
        problems.append(f"parameters is not a valid JSON Schema at {at}: {exc.message}")
    if parameters.get("type") != "object":
        problems.append(
            f"parameters' type is {parameters.get('type')!r}; the model APIs take 'object'"
        )
    problems += [f"parameters {problem}" for problem in dangling_refs(parameters)]
    return problems


def _refs(node: Any, at: str = "") -> Iterator[tuple[str, str]]:
    """``(where, $ref)`` for every string ``$ref`` in a schema, depth first."""
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield at or "/", ref
        for key, value in node.items():
            yield from _refs(value, f"{at}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{at}/{i}")


def _anchors(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, Mapping):
        if isinstance(node.get("$anchor"), str):
            found.add(node["$anchor"])
        for value in node.values():
            found |= _anchors(value)
    elif isinstance(node, list):
        for value in node:
            found |= _anchors(value)
    return found


def _resolves(document: Any, pointer: str) -> bool:
    node = document
    for raw in pointer.split("/")[1:]:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def dangling_refs(parameters: Mapping[str, Any]) -> list[str]:
    """Each ``$ref`` in ``parameters`` that the schema itself cannot resolve, one sentence each.

    The schema travels alone to the model API: a ``$ref`` must point inside it (``#``, a JSON
    pointer such as ``#/$defs/unit``, or a ``$anchor``); one to another document, or to a
    definition that is not there, leaves the argument undefined.
    """
    problems = []
    anchors = _anchors(parameters)
    for where, ref in _refs(parameters):
        if not ref.startswith("#"):
            problems.append(f"$ref {ref!r} at {where} points outside the schema")
        elif ref[1:2] in {"", "/"}:
            if not _resolves(parameters, ref[1:]):
                problems.append(f"$ref {ref!r} at {where} resolves to nothing in the schema")
        elif ref[1:] not in anchors:
            problems.append(f"$ref {ref!r} at {where} names no $anchor in the schema")
    return problems


def _own_tools(ctx: CheckContext, tools: tuple[ToolRecord, ...]) -> list[ToolRecord]:
    return [t for t in tools if t.plugin == ctx.target.name]


@suite.check("KC-PL-010", applies=needs_tools)
def valid_tool_schemas(ctx: CheckContext) -> None:
    """Space: every tool the plugin registers, its schema as the host sends it to the model
    (with or without a ``name``, ``description`` and ``parameters``): JSON-serialisable, the
    parameters valid against their JSON Schema meta-schema at every depth, of type object, and
    self-contained (every ``$ref`` resolves inside the schema); the inner name the registered
    one, exactly (no case or whitespace folding: the model calls the name it is given)."""
    runtime, _, _ = ctx.load()
    problems = [
        f"tool {tool.name!r}: {problem}"
        for tool in _own_tools(ctx, runtime.tools())
        for problem in schema_problems(tool)
    ]
    ctx.fail_if(problems, expected="valid tool schemas in the shape the host sends the model")


@suite.check("KC-PL-011", applies=needs_tools)
def tool_handlers_return_json(ctx: CheckContext) -> None:
    """Space: every tool the plugin registers with a valid schema; sync or async handlers;
    arguments generated from the schema by hypothesis-jsonschema (the session's seed, at most
    :data:`TOOL_EXAMPLES` examples, shrunk to the smallest failing one), each passed twice
    (a first and a second call with the same arguments), always with ``task_id=`` and the
    unknown keyword, the network blocked. Each call must return strict JSON text (no ``NaN``
    or ``Infinity``), awaitable exactly when registered with ``is_async=True``, and never
    raise. Judged are the tools the host would offer: a tool's own ``requires_env`` is set to
    placeholders, and one whose ``check_fn`` is still false is not judged (the check says so).
    The contract sets no time limit on a handler: a call still running at the kit's
    bound (a twelfth of the check's budget, at most 10 s) is not judged, and the check says
    so; the tool is called no more, and the other tools are judged as ever."""
    runtime, _, _ = ctx.load()
    tools = [t for t in _own_tools(ctx, runtime.tools()) if not schema_problems(t)]
    if not tools:
        ctx.skip("no tool has a valid schema to generate arguments from (see KC-PL-010)")
    calls = BoundedCalls.for_check(ctx)
    problems, untried, unoffered = [], [], []
    for tool in tools:
        # The host offers a tool to the model only when its requires_env is set and its
        # check_fn is true: the secrets get placeholders, and a tool still unavailable is one
        # no host calls.
        ctx.give_placeholders(tool.requires_env)
        if not tool.available():
            unoffered.append(
                f"tool {tool.name!r}: not judged: its check_fn says it is unavailable (with "
                "its requires_env set), so no host offers it to the model"
            )
            continue
        try:
            strategy = tool_arguments(tool_parameters(tool.schema))
        except Exception as exc:  # noqa: BLE001 - a schema the generator cannot cover
            untried.append(f"tool {tool.name!r}: cannot generate arguments ({exc})")
            continue
        if calls.spent:
            # Out of time (seventy tools, say): the rest are named, not judged.
            calls.not_called(f"tool {tool.name!r}")
            continue
        examples = min(ctx.options.max_examples, TOOL_EXAMPLES)
        try:
            breach = find_breach(tool, strategy, calls, examples=examples, seeded=ctx.options.seed)
        except Undrawable as exc:
            untried.append(f"tool {tool.name!r}: cannot generate arguments ({exc})")
            continue
        if breach is not None:
            problems.append(
                f"tool {tool.name!r} {breach.problem} for args={breach.args!r} "
                f"(with task_id='kc-task', {PROBE_KEYWORD}=True)"
            )
    unjudged = list(dict.fromkeys(calls.unjudged))
    detail = [
        f"replay it with: --kora-seed {ctx.options.seed} -k KC-PL-011",
        *untried,
        *unoffered,
        *unjudged,
    ]
    ctx.fail_if(
        problems,
        expected="a JSON string from every call; errors returned as JSON, never raised",
        detail="\n".join(detail),
    )
    if untried and len(untried) + len(unoffered) == len(tools):
        ctx.skip("; ".join([*untried, *unoffered]))
    if unoffered and len(unoffered) == len(tools):
        ctx.skip("; ".join(unoffered))
    if unjudged or unoffered:
        ctx.note("; ".join([*unoffered, *unjudged]))


def _required_plugins(ctx: CheckContext) -> list[str]:
    """The plugin IDs its manifest's ``requires_plugins`` names: enabled beside it by design."""
    path = ctx.profile.manifest_path
    value = raw_manifest(path).get("requires_plugins") if path is not None else None
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [i for i in ids if isinstance(i, str) and i and i != ctx.target.name]


_WHAT: Final = {"register_tool": "tool", "register_command": "/", "register_cli_command": "hermes "}


def _replaced(calls: list[RegisterCall], plugin: str) -> list[str]:
    """The plugin's names registered again, in one load, for something else: the host keeps
    the last and drops the earlier without a word. The same tool or command registered again
    (the same code) is a re-registration, not a collision."""
    seen: dict[tuple[str, str, object], RegisterCall] = {}
    problems = []
    for call in calls:
        if call.plugin != plugin or not isinstance(call.name, str):
            continue
        # A tool in another toolset is refused by the runtime already (tool.shadowing).
        scope = call.arguments.get("toolset") if call.method == "register_tool" else None
        key = (call.method, call.name, scope)
        earlier = seen.get(key)
        seen[key] = call
        if earlier is None:
            continue
        values = [(n, v) for n, v in call.arguments.items() if callable(v)]
        changed = [n for n, v in values if not same_callable(earlier.arguments.get(n), v)]
        if changed:
            kind = _WHAT[call.method]
            shown = f"{kind} {call.name!r}" if kind == "tool" else f"{kind}{call.name}"
            problems.append(
                f"registers {shown} twice in one load with a different {changed[0]} "
                f"({describe_callable(earlier.arguments[changed[0]])}, then "
                f"{describe_callable(call.arguments[changed[0]])}): the first is silently lost"
            )
    return problems


@suite.check("KC-PL-012", applies=needs_load)
def no_name_collisions(ctx: CheckContext) -> None:
    """Space: every tool, slash command and CLI command name the plugin registers, against
    (a) the host's own names (built-in commands, CLI commands and the well-known tools, tools
    without an allowed override), (b) the names held by the plugins enabled beside it, which
    are the plugins its manifest's ``requires_plugins`` names (loaded before it, as the host
    orders them), and (c) its own earlier registrations in the same load: the same name
    registered again with other code, or a tool in a second toolset. Plugins that are merely
    certified in the same run are not "enabled beside it": nothing says they will be."""
    name = ctx.target.name
    # The plugins it requires are enabled with it, before it: a name one of them holds is a
    # collision with another enabled plugin. Those not found are left out.
    required = _required_plugins(ctx)
    with recording_registrations() as calls:
        runtime, report, _ = ctx.load(ctx.runtime([*required, name]) if required else None)
    mine = f"plugin {name!r}: "
    refused = [
        w.removeprefix(mine)
        for w in report.warnings
        if w.startswith(mine) and any(f"breaks rule {rule} " in w for rule in COLLISION_RULES)
    ]
    named = [r for r in runtime.registrations(name) if r.kind in _NAMED_KINDS]
    if not named and not refused:
        ctx.skip("registers no tools, slash commands or CLI commands")
    problems = [*refused, *_replaced(calls, name)]
    for tool in _own_tools(ctx, runtime.tools()):
        if tool.name in BUILTIN_TOOLS and not tool.override:
            problems.append(
                f"tool {tool.name!r} takes the name of a host built-in tool without override=True"
            )
    loaded = [r for r in required if report.plugin(r) is not None]
    ctx.fail_if(
        problems,
        expected="tool and command names of the plugin's own, each registered once",
        detail=f"loaded after the plugins it requires: {', '.join(loaded)}" if loaded else "",
    )
