"""KC-PL-010 to KC-PL-012: the plugin's tools and commands as the model and the user meet them.

Schemas are validated with ``jsonschema`` in the shape the host sends the model; handlers are
called with arguments ``hypothesis-jsonschema`` generates from those schemas (the session's seed
and example budget), with the network blocked; names are held against the host's own and those
already taken.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Final

# Imported with the suite, before any check's sandbox opens: a sandbox drops the modules first
# imported inside it, which would re-import jsonschema for every check.
from hypothesis import HealthCheck, Phase, given, seed, settings
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from kora_conformance import CheckContext, Suite, needs_load, needs_tools
from kora_conformance.suites.plugin._arguments import tool_arguments
from kora_conformance.suites.plugin._manifest_rules import raw_manifest
from kora_conformance.suites.plugin._surface_probes import (
    BUILTIN_TOOLS,
    PROBE_KEYWORD,
    call_for_real,
    model_tool_definition,
    tool_parameters,
)
from reference_runtime import ToolRecord

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
    return problems


def _own_tools(ctx: CheckContext, tools: tuple[ToolRecord, ...]) -> list[ToolRecord]:
    return [t for t in tools if t.plugin == ctx.target.name]


@suite.check("KC-PL-010", applies=needs_tools)
def valid_tool_schemas(ctx: CheckContext) -> None:
    runtime, _, _ = ctx.load()
    problems = [
        f"tool {tool.name!r}: {problem}"
        for tool in _own_tools(ctx, runtime.tools())
        for problem in schema_problems(tool)
    ]
    ctx.fail_if(problems, expected="valid tool schemas in the shape the host sends the model")


@dataclasses.dataclass(frozen=True)
class _Breach:
    args: Any
    problem: str


class _Broken(Exception):
    """A generated example the handler mishandled."""


def _judge(tool: ToolRecord, args: Any) -> str | None:
    call = call_for_real(tool.handler, (args,), {"task_id": "kc-task"})
    if call.error is not None:
        return f"raised {call.error_text()}"
    if call.awaited != tool.is_async:
        if call.awaited:
            return "returned an awaitable but is registered with is_async=False"
        return "is registered with is_async=True but returned a plain value"
    if not isinstance(call.result, str):
        return f"returned a {type(call.result).__name__}, not a JSON string"
    try:
        json.loads(call.result)
    except ValueError:
        shown = call.result if len(call.result) <= 60 else call.result[:57] + "..."
        return f"returned a string that is not JSON: {shown!r}"
    return None


def _find_breach(ctx: CheckContext, tool: ToolRecord, strategy: Any) -> _Breach | None:

    breaches: list[_Breach] = []

    @seed(ctx.options.seed)
    @settings(
        max_examples=min(ctx.options.max_examples, TOOL_EXAMPLES),
        deadline=None,
        database=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        # No explain phase: the falsifying example is what the failure shows.
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    )
    @given(strategy)
    def handles_every_input(args: Any) -> None:
        problem = _judge(tool, args)
        if problem is not None:
            breaches.append(_Breach(args, problem))
            raise _Broken(problem)

    try:
        handles_every_input()
    except _Broken:
        # Hypothesis replays the smallest failing example last.
        return breaches[-1]
    return None


@suite.check("KC-PL-011", applies=needs_tools)
def tool_handlers_return_json(ctx: CheckContext) -> None:
    runtime, _, _ = ctx.load()
    tools = [t for t in _own_tools(ctx, runtime.tools()) if not schema_problems(t)]
    if not tools:
        ctx.skip("no tool has a valid schema to generate arguments from (see KC-PL-010)")
    problems, untried = [], []
    for tool in tools:
        try:
            strategy = tool_arguments(tool_parameters(tool.schema))
        except Exception as exc:  # noqa: BLE001 - a schema the generator cannot cover
            untried.append(f"tool {tool.name!r}: cannot generate arguments ({exc})")
            continue
        breach = _find_breach(ctx, tool, strategy)
        if breach is not None:
            problems.append(
                f"tool {tool.name!r} {breach.problem} for args={breach.args!r} "
                f"(with task_id='kc-task', {PROBE_KEYWORD}=True)"
            )
    detail = [f"replay it with: --kora-seed {ctx.options.seed} -k KC-PL-011", *untried]
    ctx.fail_if(
        problems,
        expected="a JSON string from every call; errors returned as JSON, never raised",
        detail="\n".join(detail),
    )
    if untried and len(untried) == len(tools):
        ctx.skip("; ".join(untried))


def _required_plugins(ctx: CheckContext) -> list[str]:
    """The plugin IDs its manifest's ``requires_plugins`` names: enabled beside it by design."""
    path = ctx.profile.manifest_path
    value = raw_manifest(path).get("requires_plugins") if path is not None else None
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [i for i in ids if isinstance(i, str) and i and i != ctx.target.name]


@suite.check("KC-PL-012", applies=needs_load)
def no_name_collisions(ctx: CheckContext) -> None:
    name = ctx.target.name
    # The plugins it requires are enabled with it, before it: a name one of them holds is a
    # collision with another enabled plugin. Those not found are left out.
    required = _required_plugins(ctx)
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
    problems = [*refused]
    for tool in _own_tools(ctx, runtime.tools()):
        if tool.name in BUILTIN_TOOLS and not tool.override:
            problems.append(
                f"tool {tool.name!r} takes the name of a host built-in tool without override=True"
            )
    loaded = [r for r in required if report.plugin(r) is not None]
    ctx.fail_if(
        problems,
        expected="tool and command names of the plugin's own",
        detail=f"loaded after the plugins it requires: {', '.join(loaded)}" if loaded else "",
    )
