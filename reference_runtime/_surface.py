"""The upstream Hermes registration surface, as one table.

Each row of :data:`HERMES_SURFACE` is a :class:`SurfaceMethod`: the ``PluginContext`` method's
name and parameters as upstream spells them, what it registers, the key it is known by and the
rules it is checked against when called. ``PluginContext`` generates its methods from the rows;
the docs and the kit's generic checks read the same rows. The built-in names below are the
reference's lists of what the upstream host reserves; they are the well-known ones, not
necessarily all of them.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from ._errors import SkillPathError, ToolOverrideError
from ._hookspecs import KNOWN_HOOKS
from ._registrations import Registration
from ._surface_rules import (
    SurfaceCall,
    SurfaceMethod,
    SurfaceParam,
    SurfaceRule,
    callable_arg,
    instance_arg,
    reserved,
    string_arg,
    unique,
)

__all__ = [
    "BUILTIN_CLI_COMMANDS",
    "BUILTIN_COMMANDS",
    "HERMES_SURFACE",
    "MIDDLEWARE_KINDS",
    "PROMPT_SECTION_LIMITS",
    "provider_name",
    "surface_method",
]

#: ``register_middleware`` kinds (upstream ``middleware.py``).
MIDDLEWARE_KINDS: Final = ("tool_request", "tool_execution", "llm_request", "llm_execution")
#: Slash commands the host defines itself.
BUILTIN_COMMANDS: Final = frozenset(
    {"help", "new", "reset", "clear", "model", "tools", "toolsets", "skills", "quit", "exit",
     "history", "retry", "undo", "compress", "usage", "config", "personality", "plugins",
     "status", "stop", "title", "resume", "verbose", "yolo", "approve", "deny", "cron",
     "background", "reload-mcp", "reload-skills", "provider", "insights"}
)  # fmt: skip
#: ``hermes <name>`` subcommands the host defines itself.
BUILTIN_CLI_COMMANDS: Final = frozenset(
    {"chat", "config", "cron", "doctor", "gateway", "login", "logout", "model", "plugins",
     "profile", "sessions", "setup", "skills", "status", "tools", "update", "version"}
)  # fmt: skip
#: ``register_system_prompt_section``: characters per section, in total, and sections.
PROMPT_SECTION_LIMITS: Final[Mapping[str, int]] = types.MappingProxyType(
    {"per_section": 4000, "total": 8000, "sections": 32}
)
_PROMPT_POSITIONS: Final = ("after_memory",)
_BUILTIN_PROVIDERS: Final[Mapping[str, frozenset[str]]] = {
    "terminal_environment": frozenset(
        {"local", "docker", "ssh", "modal", "daytona", "singularity"}
    ),
    "tts": frozenset({"edge", "elevenlabs", "openai"}),
    "transcription": frozenset({"local", "groq", "openai"}),
}
_BUILTIN_REFERENCE_PREFIXES: Final = frozenset({"file", "folder", "diff", "staged", "git", "url"})
_BUILTIN_AUX_TASKS: Final = frozenset({"vision", "web_extract", "compression", "session_search"})
_TOOL_NAME: Final = r"[A-Za-z0-9_-]{1,64}"  # what the model APIs accept as a function name
_NAME: Final = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


def _arg(param: str) -> Callable[[SurfaceCall], str]:
    return lambda call: str(call[param])


def provider_name(provider: object) -> str:
    """A provider's key: its ``name`` attribute when that is a non-empty string, else its
    class's name."""
    name = None if inspect.isclass(provider) else getattr(provider, "name", None)
    return name if isinstance(name, str) and name else type(provider).__qualname__


def _provider_key(call: SurfaceCall) -> str:
    return provider_name(call["provider"])


def _check(rule_id: str, text: str, fix: str, **options: Any) -> Callable[..., SurfaceRule]:
    def wrap(check: Callable[[SurfaceCall], str | None]) -> SurfaceRule:
        return SurfaceRule(rule_id, text, check, fix, **options)

    return wrap


def _row(kind: str, name: str, summary: str, params: tuple[SurfaceParam, ...], *rules: SurfaceRule,
         key: Callable[[SurfaceCall], str], **options: Any) -> SurfaceMethod:  # fmt: skip
    # SurfaceRule factories leave "{kind}" in their IDs; the row names it.
    named = tuple(dataclasses.replace(r, id=r.id.format(kind=kind)) for r in rules)
    return SurfaceMethod(name, kind, summary, params, key, named, **options)


# --- register_tool ------------------------------------------------------------------------------


@_check("tool.schema", "schema is a mapping (the function schema the model sees)",
        "pass a dict such as {'name': ..., 'description': ..., 'parameters': {...}}")  # fmt: skip
def _tool_schema(call: SurfaceCall) -> str | None:
    schema = call["schema"]
    return None if isinstance(schema, Mapping) else f"schema is {type(schema).__name__}"


@_check("tool.schema-name", "a name inside schema matches the tool's name",
        "use one name in both places", severity="warn")  # fmt: skip
def _tool_schema_name(call: SurfaceCall) -> str | None:
    inner = call["schema"].get("name") if isinstance(call["schema"], Mapping) else None
    if inner is None or inner == call["name"]:
        return None
    return f"schema names {inner!r}"


@_check("tool.requires_env", "requires_env is a list of environment variable names",
        "pass requires_env=['MY_API_KEY']")  # fmt: skip
def _tool_env(call: SurfaceCall) -> str | None:
    env = call["requires_env"]
    if env is None or (
        isinstance(env, (list, tuple)) and all(isinstance(e, str) and e for e in env)
    ):
        return None
    return f"requires_env is {env!r}"


@_check("tool.override-capability",
        "override=True needs the tools.override capability (manifest capabilities)",
        "declare capabilities: [tools.override] in plugin.yaml, or drop override=True",
        error=ToolOverrideError)  # fmt: skip
def _tool_override_capability(call: SurfaceCall) -> str | None:
    if not call["override"] or call.scope.has_capability("tools.override"):
        return None
    return "override=True without the tools.override capability"


@_check("tool.shadowing",
        "a tool name held by another plugin or toolset is refused unless override=True",
        "rename the tool, or pass override=True (with the tools.override capability)",
        severity="refuse")  # fmt: skip
def _tool_shadowing(call: SurfaceCall) -> str | None:
    holder = call.scope.held("tool", call.key)
    if holder is None or call["override"]:
        return None
    if holder.plugin == call.plugin and holder["toolset"] == call["toolset"]:
        return None  # the same tool again (a re-registration) replaces it
    return (
        f"{call.key!r} is already registered by plugin {holder.plugin!r} "
        f"in toolset {holder['toolset']!r}"
    )


# --- register_skill and register_system_prompt_section -----------------------------------------


@_check("skill.path", "path is an existing SKILL.md file, or a directory holding one",
        "point path at the skill's SKILL.md, e.g. Path(__file__).parent / 'skills' / 'x' / "
        "'SKILL.md'", error=SkillPathError)  # fmt: skip
def _skill_path(call: SurfaceCall) -> str | None:
    try:
        path = Path(call["path"])
    except TypeError:
        return f"path is {type(call['path']).__name__}, not a path"
    if path.is_file() or (path / "SKILL.md").is_file():
        return None
    return (
        f"{str(path)!r} does not exist" if not path.exists() else f"{str(path)!r} has no SKILL.md"
    )


@_check("system_prompt_section.content", "content is a string, or a callable on the session",
        "pass the section's text, or a function (session) -> str")  # fmt: skip
def _section_content(call: SurfaceCall) -> str | None:
    content = call["content"]
    if isinstance(content, str) or callable(content):
        return None
    return f"content is {type(content).__name__}"


@_check("system_prompt_section.position", f"position is one of {', '.join(_PROMPT_POSITIONS)}",
        "pass position='after_memory' (or leave it out)")  # fmt: skip
def _section_position(call: SurfaceCall) -> str | None:
    position = call["position"]
    return None if position in _PROMPT_POSITIONS else f"position is {position!r}"


@_check("system_prompt_section.max_chars",
        f"max_chars is between 1 and {PROMPT_SECTION_LIMITS['per_section']}",
        "lower max_chars, or split the section")  # fmt: skip
def _section_max_chars(call: SurfaceCall) -> str | None:
    limit = call["max_chars"]
    ceiling = PROMPT_SECTION_LIMITS["per_section"]
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit <= ceiling:
        return None
    return f"max_chars is {limit!r}"


@_check("system_prompt_section.length", "a text section is at most max_chars characters",
        "shorten the text, or compute it with a callable (truncated when rendered)")  # fmt: skip
def _section_length(call: SurfaceCall) -> str | None:
    content, limit = call["content"], call["max_chars"]
    if isinstance(content, str) and isinstance(limit, int) and len(content) > limit:
        return f"the text is {len(content)} characters, max_chars is {limit}"
    return None


@_check("system_prompt_section.budget",
        f"all sections together hold at most {PROMPT_SECTION_LIMITS['total']} characters of "
        f"text and there are at most {PROMPT_SECTION_LIMITS['sections']} sections",
        "shorten or merge sections")  # fmt: skip
def _section_budget(call: SurfaceCall) -> str | None:
    sections = call.scope.registered("system_prompt_section")
    if len(sections) >= PROMPT_SECTION_LIMITS["sections"]:
        return f"{len(sections)} sections are already registered"
    texts = [s["content"] for s in sections] + [call["content"]]
    total = sum(len(t) for t in texts if isinstance(t, str))
    if total > PROMPT_SECTION_LIMITS["total"]:
        return f"the sections' text would total {total} characters"
    return None


# --- the other rows' own rules -----------------------------------------------------------------


@_check("middleware.kind", f"kind is one of {', '.join(MIDDLEWARE_KINDS)}",
        "check the spelling; unknown kinds are stored but no host calls them",
        severity="warn")  # fmt: skip
def _middleware_kind(call: SurfaceCall) -> str | None:
    return None if call["kind"] in MIDDLEWARE_KINDS else f"kind is {call['kind']!r}"


@_check("hook.known", "the hook name is one the host fires",
        "check the spelling; unknown hooks are stored but never fired",
        severity="warn")  # fmt: skip
def _hook_known(call: SurfaceCall) -> str | None:
    return None if call["hook_name"] in KNOWN_HOOKS else f"{call['hook_name']!r} is unknown"


@_check("context_engine.single", "only one context engine is registered",
        "enable one context-engine plugin", severity="refuse")  # fmt: skip
def _one_engine(call: SurfaceCall) -> str | None:
    held = call.scope.registered("context_engine")
    return None if not held else f"plugin {held[0].plugin!r} already registered one"


@_check("context_reference.prefix", "the provider has a string prefix that is not built in "
        f"({', '.join(sorted(_BUILTIN_REFERENCE_PREFIXES))})",
        "give the provider a prefix attribute of its own")  # fmt: skip
def _reference_prefix(call: SurfaceCall) -> str | None:
    prefix = getattr(call["provider"], "prefix", None)
    if not isinstance(prefix, str) or not prefix:
        return f"prefix is {prefix!r}"
    stripped = prefix.strip("@:")
    return f"@{stripped}: is built in" if stripped in _BUILTIN_REFERENCE_PREFIXES else None


def _reference_key(call: SurfaceCall) -> str:
    return str(getattr(call["provider"], "prefix", "")).strip("@:")


@_check("redaction_patterns.compile", "each pattern is a regular expression that compiles",
        "fix or drop the pattern; the others are still accepted", severity="warn")  # fmt: skip
def _patterns_compile(call: SurfaceCall) -> str | None:
    bad = [p for p in _patterns(call["patterns"]) if _compiled(p) is None]
    return None if not bad else f"these do not compile: {bad!r}"


def _patterns(value: object) -> list[object]:
    if isinstance(value, (str, re.Pattern)):
        return [value]
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _compiled(pattern: object) -> re.Pattern[str] | None:
    if isinstance(pattern, re.Pattern):
        return pattern
    try:
        return re.compile(pattern) if isinstance(pattern, str) else None
    except re.error:
        return None


def _accepted_patterns(record: Registration) -> int:
    return sum(_compiled(p) is not None for p in _patterns(record["patterns"]))


@_check("platform.entry", "extra keywords are PlatformEntry fields",
        "the reference does not know upstream's PlatformEntry fields and keeps them all; "
        "check their spelling against the host", severity="warn")  # fmt: skip
def _platform_entry(call: SurfaceCall) -> str | None:
    extra = call["extra"]
    return None if not extra else f"unverified keywords {', '.join(sorted(extra))}"


@_check("approval_transport.reserved", "the name 'builtin' is reserved",
        "pick another name")  # fmt: skip
def _approval_reserved(call: SurfaceCall) -> str | None:
    return "'builtin' is the host's own transport" if call["name"] == "builtin" else None


def _provider_row(kind: str, since: str) -> SurfaceMethod:
    rules = [instance_arg("provider", severity="refuse")]
    if kind in _BUILTIN_PROVIDERS:
        rules.append(reserved(_BUILTIN_PROVIDERS[kind], f"{kind.replace('_', ' ')} provider"))
    return _row(kind, f"register_{kind}_provider" if kind != "secret_source" else
                "register_secret_source",
                f"Register a {kind.replace('_', ' ')} provider, by its name; a later one of the "
                "same name displaces it (and comes back if that one is rolled back).",
                (SurfaceParam("provider", "Any"),), *rules, key=_provider_key, since=since,
                displaces=True)  # fmt: skip


_P = SurfaceParam
_OPTIONAL_FN = "Callable[..., Any] | None"

#: The whole upstream ``PluginContext`` registration surface, one row per method.
HERMES_SURFACE: Final[tuple[SurfaceMethod, ...]] = (
    _row("tool", "register_tool",
         "Register a tool the model can call: handler(args: dict, **kwargs) -> JSON string.",
         (_P("name", "str"), _P("toolset", "str"), _P("schema", "Mapping[str, Any]"),
          _P("handler", "Callable[..., Any]"), _P("check_fn", _OPTIONAL_FN, None),
          _P("requires_env", "Sequence[str] | None", None), _P("is_async", "bool", False),
          _P("description", "str", ""), _P("emoji", "str", ""), _P("override", "bool", False)),
         string_arg("name", pattern=_TOOL_NAME, what="1-64 letters, digits, '_' or '-'"),
         string_arg("toolset"), _tool_schema, _tool_schema_name, callable_arg("handler"),
         callable_arg("check_fn", optional=True), _tool_env, _tool_override_capability,
         _tool_shadowing, key=_arg("name"), displaces=True),
    _row("hook", "register_hook",
         "Register callback for a lifecycle hook; callbacks run in registration order.",
         (_P("hook_name", "str"), _P("callback", "Callable[..., Any]")),
         string_arg("hook_name"), callable_arg("callback"), _hook_known,
         key=_arg("hook_name"), hand_written=True),
    _row("middleware", "register_middleware",
         "Register middleware around tool or LLM requests and executions.",
         (_P("kind", "str"), _P("callback", "Callable[..., Any]")),
         string_arg("kind"), callable_arg("callback"), _middleware_kind, key=_arg("kind")),
    _row("command", "register_command",
         "Register the slash command /name; handler gets the raw argument string.",
         (_P("name", "str"), _P("handler", "Callable[..., Any]"), _P("description", "str", ""),
          _P("args_hint", "str", ""), _P("argument_mode", "str | None", None)),
         string_arg("name", pattern=_NAME, what="a command name without the '/'"),
         callable_arg("handler"), reserved(BUILTIN_COMMANDS, "slash command", "refuse"),
         unique("refuse"), key=_arg("name"), displaces=True),
    _row("cli_command", "register_cli_command",
         "Register the subcommand `hermes <name>`; setup_fn receives its argparse subparser.",
         (_P("name", "str"), _P("help", "str"), _P("setup_fn", "Callable[..., Any]"),
          _P("handler_fn", _OPTIONAL_FN, None), _P("description", "str", "")),
         string_arg("name", pattern=_NAME, what="a subcommand name"),
         callable_arg("setup_fn"), callable_arg("handler_fn", optional=True),
         reserved(BUILTIN_CLI_COMMANDS, "CLI command", "refuse"), unique("refuse"),
         key=_arg("name"), displaces=True),
    _row("skill", "register_skill",
         "Register a read-only skill, known as <plugin>:<name>.",
         (_P("name", "str"), _P("path", "str | os.PathLike[str]"),
          _P("description", "str", ""), _P("frontmatter", "Mapping[str, Any] | None", None)),
         string_arg("name", pattern=_NAME, what="a skill name (no ':' or '/')"), _skill_path,
         unique(same_plugin=True), key=lambda call: f"{call.plugin}:{call['name']}"),
    _row("system_prompt_section", "register_system_prompt_section",
         "Add a section to the system prompt, after the memory block.",
         (_P("id", "str"), _P("content", "str | Callable[[Mapping[str, Any]], str]"),
          _P("position", "str", "after_memory", keyword_only=True),
          _P("max_chars", "int", PROMPT_SECTION_LIMITS["per_section"], keyword_only=True)),
         string_arg("id"), unique(same_plugin=True), _section_content, _section_position,
         _section_max_chars, _section_length, _section_budget, key=_arg("id")),
    _row("context_engine", "register_context_engine",
         "Register the context engine (context compression); only one is allowed.",
         (_P("engine", "Any"),), instance_arg("engine", severity="refuse"), _one_engine,
         key=lambda call: provider_name(call["engine"])),
    _row("memory_provider", "register_memory_provider",
         "Record a memory provider; memory.provider in the host's config activates one.",
         (_P("provider", "Any"),), instance_arg("provider", severity="refuse"),
         unique("refuse", same_plugin=True), key=_provider_key),
    *(_provider_row(kind, since) for kind, since in (
        ("web_search", "0.19.0"), ("browser", "0.19.0"), ("image_gen", "0.19.0"),
        ("video_gen", "0.19.0"), ("transcription", "0.19.0"), ("tts", "0.19.0"),
        ("terminal_environment", "main"), ("secret_source", "main"))),
    _row("context_reference", "register_context_reference",
         "Register a provider serving @prefix: references in messages.",
         (_P("provider", "Any"),), instance_arg("provider"), _reference_prefix,
         unique(), key=_reference_key, since="main"),
    _row("dashboard_auth_provider", "register_dashboard_auth_provider",
         "Register a dashboard authentication provider.",
         (_P("provider", "Any"),), instance_arg("provider"), key=_provider_key, since="main",
         displaces=True),
    _row("auxiliary_task", "register_auxiliary_task",
         "Add an auxiliary.<key> model-task block to the host's configuration.",
         (_P("key", "str"), _P("display_name", "str", "", keyword_only=True),
          _P("description", "str", "", keyword_only=True),
          _P("defaults", "Mapping[str, Any] | None", None, keyword_only=True)),
         string_arg("key", pattern=_NAME, what="a config key"),
         reserved(_BUILTIN_AUX_TASKS, "auxiliary task"), unique(same_plugin=True),
         key=_arg("key"), since="main"),
    _row("redaction_patterns", "register_redaction_patterns",
         "Add regular expressions whose matches are redacted; returns how many were accepted.",
         (_P("patterns", "Iterable[str | re.Pattern[str]]"),), _patterns_compile,
         key=lambda call: call.plugin, since="main", returns=_accepted_patterns),
    _row("platform", "register_platform",
         "Register a messaging platform adapter for the gateway.",
         (_P("name", "str"), _P("label", "str"), _P("adapter_factory", "Callable[..., Any]"),
          _P("check_fn", "Callable[..., Any]"), _P("validate_config", _OPTIONAL_FN, None),
          _P("required_env", "Sequence[str]", ()), _P("install_hint", "str", "")),
         string_arg("name", pattern=_NAME, what="a platform name"), string_arg("label"),
         callable_arg("adapter_factory"), callable_arg("check_fn"),
         callable_arg("validate_config", optional=True), unique(), _platform_entry,
         key=_arg("name"), displaces=True, extra_keywords=True),
    _row("platform_handler", "register_platform_handler",
         "Register factory(native, adapter), called when the platform connects.",
         (_P("platform", "str"), _P("factory", "Callable[..., Any]")),
         string_arg("platform"), callable_arg("factory"), key=_arg("platform"), since="main"),
    _row("platform_handler", "register_telegram_handler",
         "Register factory(native, adapter) for the Telegram platform.",
         (_P("factory", "Callable[..., Any]"),), callable_arg("factory"),
         key=lambda call: "telegram", since="main"),
    _row("slack_action_handler", "register_slack_action_handler",
         "Register callback for a Slack interactive action_id.",
         (_P("action_id", "str"), _P("callback", "Callable[..., Any]")),
         string_arg("action_id"), callable_arg("callback"), key=_arg("action_id"),
         since="main"),
    _row("approval_transport", "register_approval_transport",
         "Register present_fn, a way to ask the user for an approval.",
         (_P("name", "str"), _P("present_fn", "Callable[..., Any]")),
         string_arg("name"), callable_arg("present_fn"), _approval_reserved,
         unique(same_plugin=True), key=_arg("name")),
)  # fmt: skip

_BY_NAME: Final = {method.name: method for method in HERMES_SURFACE}


def surface_method(name: str) -> SurfaceMethod:
    """The row of the ``PluginContext`` method ``name``.

    :raises KeyError: no such method; the message lists the known ones.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        msg = f"no surface method {name!r}; known: {', '.join(_BY_NAME)}"
        raise KeyError(msg) from None
