"""The rules of the surface table that belong to one method, and the host's built-in names.

Generic rules (a string, a callable, a unique name) come from the factories in
:mod:`reference_runtime._surface_rules`; the checks here are the ones a single row needs, written
once as a :class:`~reference_runtime.SurfaceRule` each. The built-in names are the reference's
lists of what the upstream host reserves: the well-known ones, not necessarily all of them.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from ._errors import SkillPathError, ToolOverrideError
from ._hookspecs import KNOWN_HOOKS
from ._registrations import Registration
from ._surface_rules import SurfaceCall, SurfaceRule

__all__ = [
    "BUILTIN_AUX_TASKS",
    "BUILTIN_CLI_COMMANDS",
    "BUILTIN_COMMANDS",
    "BUILTIN_PROVIDERS",
    "BUILTIN_REFERENCE_PREFIXES",
    "MIDDLEWARE_KINDS",
    "PROMPT_SECTION_LIMITS",
    "provider_name",
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
#: Where a system prompt section may go.
PROMPT_POSITIONS: Final = ("after_memory",)
#: Provider names the host keeps for its own backends, by kind.
BUILTIN_PROVIDERS: Final[Mapping[str, frozenset[str]]] = {
    "terminal_environment": frozenset(
        {"local", "docker", "ssh", "modal", "daytona", "singularity"}
    ),
    "tts": frozenset({"edge", "elevenlabs", "openai"}),
    "transcription": frozenset({"local", "groq", "openai"}),
}
#: ``@prefix:`` references the host serves itself.
BUILTIN_REFERENCE_PREFIXES: Final = frozenset({"file", "folder", "diff", "staged", "git", "url"})
#: ``auxiliary.<key>`` blocks the host defines itself.
BUILTIN_AUX_TASKS: Final = frozenset({"vision", "web_extract", "compression", "session_search"})
#: A tool name: what the model APIs accept as a function name.
TOOL_NAME: Final = r"[A-Za-z0-9_-]{1,64}"
#: A command, skill, platform or config-key name.
NAME: Final = r"[A-Za-z0-9][A-Za-z0-9_.-]*"


def provider_name(provider: object) -> str:
    """A provider's key: its ``name`` attribute when that is a non-empty string, else its
    class's name."""
    name = None if inspect.isclass(provider) else getattr(provider, "name", None)
    return name if isinstance(name, str) and name else type(provider).__qualname__


def provider_key(call: SurfaceCall) -> str:
    """The key of a call whose object is ``provider``: :func:`provider_name`."""
    return provider_name(call["provider"])


def _check(rule_id: str, text: str, fix: str, **options: Any) -> Callable[..., SurfaceRule]:
    def wrap(check: Callable[[SurfaceCall], str | None]) -> SurfaceRule:
        return SurfaceRule(rule_id, text, check, fix, **options)

    return wrap


def _counted(call: SurfaceCall, kind: str) -> list[Registration]:
    # The same plugin's registrations from an earlier context (before a reload) are on their way
    # out: its new ones displace them, so they do not count against a limit; see unique().
    return [
        r for r in call.scope.registered(kind) if r.plugin != call.plugin or call.scope.is_own(r)
    ]


# --- register_tool ------------------------------------------------------------------------------


@_check("tool.schema", "schema is a mapping (the function schema the model sees)",
        "pass a dict such as {'name': ..., 'description': ..., 'parameters': {...}}")  # fmt: skip
def tool_schema(call: SurfaceCall) -> str | None:
    schema = call["schema"]
    return None if isinstance(schema, Mapping) else f"schema is {type(schema).__name__}"


@_check("tool.schema-name", "a name inside schema matches the tool's name",
        "use one name in both places", severity="warn")  # fmt: skip
def tool_schema_name(call: SurfaceCall) -> str | None:
    inner = call["schema"].get("name") if isinstance(call["schema"], Mapping) else None
    if inner is None or inner == call["name"]:
        return None
    return f"schema names {inner!r}"


@_check("tool.requires_env", "requires_env is a list of environment variable names",
        "pass requires_env=['MY_API_KEY']")  # fmt: skip
def tool_env(call: SurfaceCall) -> str | None:
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
def tool_override_capability(call: SurfaceCall) -> str | None:
    if not call["override"] or call.scope.has_capability("tools.override"):
        return None
    return "override=True without the tools.override capability"


@_check("tool.shadowing",
        "a tool name held by another plugin or toolset is refused unless override=True",
        "rename the tool, or pass override=True (with the tools.override capability)",
        severity="refuse")  # fmt: skip
def tool_shadowing(call: SurfaceCall) -> str | None:
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
def skill_path(call: SurfaceCall) -> str | None:
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
def section_content(call: SurfaceCall) -> str | None:
    content = call["content"]
    if isinstance(content, str) or callable(content):
        return None
    return f"content is {type(content).__name__}"


@_check("system_prompt_section.position", f"position is one of {', '.join(PROMPT_POSITIONS)}",
        "pass position='after_memory' (or leave it out)")  # fmt: skip
def section_position(call: SurfaceCall) -> str | None:
    position = call["position"]
    return None if position in PROMPT_POSITIONS else f"position is {position!r}"


@_check("system_prompt_section.max_chars",
        f"max_chars is between 1 and {PROMPT_SECTION_LIMITS['per_section']}",
        "lower max_chars, or split the section")  # fmt: skip
def section_max_chars(call: SurfaceCall) -> str | None:
    limit = call["max_chars"]
    ceiling = PROMPT_SECTION_LIMITS["per_section"]
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit <= ceiling:
        return None
    return f"max_chars is {limit!r}"


@_check("system_prompt_section.length", "a text section is at most max_chars characters",
        "shorten the text, or compute it with a callable (truncated when rendered)")  # fmt: skip
def section_length(call: SurfaceCall) -> str | None:
    content, limit = call["content"], call["max_chars"]
    if isinstance(content, str) and isinstance(limit, int) and len(content) > limit:
        return f"the text is {len(content)} characters, max_chars is {limit}"
    return None


@_check("system_prompt_section.budget",
        f"all sections together hold at most {PROMPT_SECTION_LIMITS['total']} characters of "
        f"text and there are at most {PROMPT_SECTION_LIMITS['sections']} sections",
        "shorten or merge sections")  # fmt: skip
def section_budget(call: SurfaceCall) -> str | None:
    sections = _counted(call, "system_prompt_section")
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
def middleware_kind(call: SurfaceCall) -> str | None:
    return None if call["kind"] in MIDDLEWARE_KINDS else f"kind is {call['kind']!r}"


@_check("hook.known", "the hook name is one the host fires",
        "check the spelling; unknown hooks are stored but never fired",
        severity="warn")  # fmt: skip
def hook_known(call: SurfaceCall) -> str | None:
    return None if call["hook_name"] in KNOWN_HOOKS else f"{call['hook_name']!r} is unknown"


@_check("context_engine.single", "only one context engine is registered",
        "enable one context-engine plugin", severity="refuse")  # fmt: skip
def one_engine(call: SurfaceCall) -> str | None:
    held = _counted(call, "context_engine")
    return None if not held else f"plugin {held[0].plugin!r} already registered one"


@_check("context_reference.prefix", "the provider has a string prefix that is not built in "
        f"({', '.join(sorted(BUILTIN_REFERENCE_PREFIXES))})",
        "give the provider a prefix attribute of its own")  # fmt: skip
def reference_prefix(call: SurfaceCall) -> str | None:
    prefix = getattr(call["provider"], "prefix", None)
    if not isinstance(prefix, str) or not prefix:
        return f"prefix is {prefix!r}"
    stripped = prefix.strip("@:")
    return f"@{stripped}: is built in" if stripped in BUILTIN_REFERENCE_PREFIXES else None


def reference_key(call: SurfaceCall) -> str:
    """A context reference provider's key: its prefix without ``@`` and ``:``."""
    return str(getattr(call["provider"], "prefix", "")).strip("@:")


@_check("redaction_patterns.compile", "each pattern is a regular expression that compiles",
        "fix or drop the pattern; the others are still accepted", severity="warn")  # fmt: skip
def patterns_compile(call: SurfaceCall) -> str | None:
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


def accepted_patterns(record: Registration) -> int:
    """How many of a ``register_redaction_patterns`` call's patterns compile."""
    return sum(_compiled(p) is not None for p in _patterns(record["patterns"]))


@_check("platform.entry", "extra keywords are PlatformEntry fields",
        "the reference does not know upstream's PlatformEntry fields and keeps them all; "
        "check their spelling against the host", severity="warn")  # fmt: skip
def platform_entry(call: SurfaceCall) -> str | None:
    extra = call["extra"]
    return None if not extra else f"unverified keywords {', '.join(sorted(extra))}"


@_check("approval_transport.reserved", "the name 'builtin' is reserved",
        "pick another name")  # fmt: skip
def approval_reserved(call: SurfaceCall) -> str | None:
    return "'builtin' is the host's own transport" if call["name"] == "builtin" else None


@_check("slack_action_handler.action_id", "action_id is what slack_bolt's App.action() matches "
        "on: a string, a compiled re.Pattern or a constraints mapping; not None or a blank "
        "string", "pass the Block Kit element's action_id, a re.compile(...) pattern for "
        "several, or {'action_id': ..., 'block_id': ...}")  # fmt: skip
def slack_action_id(call: SurfaceCall) -> str | None:
    # Upstream refuses only None and a blank string, and hands the rest to slack_bolt.
    value = call["action_id"]
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"action_id is {value!r}"
    return None


def slack_action_key(call: SurfaceCall) -> str:
    """A Slack action handler's key: the action_id, a pattern's source, or the mapping's repr."""
    value = call["action_id"]
    if isinstance(value, str):
        return value
    if isinstance(value, re.Pattern):
        return str(value.pattern)
    return repr(value)
