"""The upstream Hermes registration surface, as one table.

Each row of :data:`HERMES_SURFACE` is a :class:`~reference_runtime.SurfaceMethod`: the
``PluginContext`` method's name and parameters as upstream spells them, what it registers, the
key it is known by and the rules it is checked against when called. ``PluginContext`` generates
its methods from the rows; the docs page and checks of plugins read the same rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final

from . import _surface_checks as checks
from ._surface_checks import (
    BUILTIN_CLI_COMMANDS,
    BUILTIN_COMMANDS,
    MIDDLEWARE_KINDS,
    PROMPT_SECTION_LIMITS,
    provider_name,
)
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
    "PROVIDER_OBJECTS",
    "provider_name",
    "surface_method",
]


def _arg(param: str) -> Callable[[SurfaceCall], str]:
    return lambda call: str(call[param])


def _row(kind: str, name: str, summary: str, params: tuple[SurfaceParam, ...], *rules: SurfaceRule,
         key: Callable[[SurfaceCall], str], **options: Any) -> SurfaceMethod:  # fmt: skip
    # Rule factories leave "{kind}" in their IDs; the row names it.
    named = tuple(dataclasses.replace(r, id=r.id.format(kind=kind)) for r in rules)
    return SurfaceMethod(name, kind, summary, params, key, named, **options)


#: The host's base class of each provider kind (``host_base``), where upstream checks it.
_PROVIDER_BASES: Final = {
    "web_search": "agent.web_search_provider:WebSearchProvider",
    "browser": "agent.browser_provider:BrowserProvider",
    "image_gen": "agent.image_gen_provider:ImageGenProvider",
    "video_gen": "agent.video_gen_provider:VideoGenProvider",
    "transcription": "agent.transcription_provider:TranscriptionProvider",
    "tts": "agent.tts_provider:TTSProvider",
    "secret_source": "agent.secret_sources.base:SecretSource",
}


def _provider_row(kind: str, since: str) -> SurfaceMethod:
    rules = [instance_arg("provider", severity="refuse")]
    if kind in checks.BUILTIN_PROVIDERS:
        rules.append(reserved(checks.BUILTIN_PROVIDERS[kind], f"{kind.replace('_', ' ')} provider"))
    return _row(kind, f"register_{kind}_provider" if kind != "secret_source" else
                "register_secret_source",
                f"Register a {kind.replace('_', ' ')} provider, by its name; a later one of the "
                "same name displaces it (and comes back if that one is rolled back).",
                (SurfaceParam("provider", "Any"),), *rules, key=checks.provider_key, since=since,
                displaces=True, host_base=_PROVIDER_BASES.get(kind))  # fmt: skip


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
         string_arg("name", pattern=checks.TOOL_NAME, what="1-64 letters, digits, '_' or '-'"),
         string_arg("toolset"), checks.tool_schema, checks.tool_schema_name,
         callable_arg("handler"), callable_arg("check_fn", optional=True), checks.tool_env,
         checks.tool_override_capability, checks.tool_shadowing, key=_arg("name"),
         displaces=True),
    _row("hook", "register_hook",
         "Register callback for a lifecycle hook; callbacks run in registration order.",
         (_P("hook_name", "str"), _P("callback", "Callable[..., Any]")),
         string_arg("hook_name"), callable_arg("callback"), checks.hook_known,
         key=_arg("hook_name"), hand_written=True),
    _row("middleware", "register_middleware",
         "Register middleware around tool or LLM requests and executions.",
         (_P("kind", "str"), _P("callback", "Callable[..., Any]")),
         string_arg("kind"), callable_arg("callback"), checks.middleware_kind, key=_arg("kind")),
    _row("command", "register_command",
         "Register the slash command /name; handler gets the raw argument string.",
         (_P("name", "str"), _P("handler", "Callable[..., Any]"), _P("description", "str", ""),
          _P("args_hint", "str", ""), _P("argument_mode", "str | None", None)),
         string_arg("name", pattern=checks.NAME, what="a command name without the '/'"),
         callable_arg("handler"), reserved(BUILTIN_COMMANDS, "slash command", "refuse"),
         unique("refuse"), key=_arg("name"), displaces=True),
    _row("cli_command", "register_cli_command",
         "Register the subcommand `hermes <name>`; setup_fn receives its argparse subparser.",
         (_P("name", "str"), _P("help", "str"), _P("setup_fn", "Callable[..., Any]"),
          _P("handler_fn", _OPTIONAL_FN, None), _P("description", "str", "")),
         string_arg("name", pattern=checks.NAME, what="a subcommand name"),
         callable_arg("setup_fn"), callable_arg("handler_fn", optional=True),
         reserved(BUILTIN_CLI_COMMANDS, "CLI command", "refuse"), unique("refuse"),
         key=_arg("name"), displaces=True),
    _row("skill", "register_skill",
         "Register a read-only skill, known as <plugin>:<name>.",
         (_P("name", "str"), _P("path", "str | os.PathLike[str]"),
          _P("description", "str", ""), _P("frontmatter", "Mapping[str, Any] | None", None)),
         string_arg("name", pattern=checks.NAME, what="a skill name (no ':' or '/')"),
         checks.skill_path, unique(same_plugin=True),
         key=lambda call: f"{call.plugin}:{call['name']}", displaces=True),
    _row("system_prompt_section", "register_system_prompt_section",
         "Add a section to the system prompt, after the memory block.",
         (_P("id", "str"), _P("content", "str | Callable[[Mapping[str, Any]], str]"),
          _P("position", "str", "after_memory", keyword_only=True),
          _P("max_chars", "int", PROMPT_SECTION_LIMITS["per_section"], keyword_only=True)),
         string_arg("id"), unique(same_plugin=True), checks.section_content,
         checks.section_position, checks.section_max_chars, checks.section_length,
         checks.section_budget, key=_arg("id"), displaces=True),
    _row("context_engine", "register_context_engine",
         "Register the context engine (context compression); only one is allowed.",
         (_P("engine", "Any"),), instance_arg("engine", severity="refuse"), checks.one_engine,
         key=lambda call: checks.provider_name(call["engine"]), displaces=True,
         host_base="agent.context_engine:ContextEngine"),
    _row("memory_provider", "register_memory_provider",
         "Record a memory provider; memory.provider in the host's config activates one.",
         (_P("provider", "Any"),), instance_arg("provider", severity="refuse"),
         unique("refuse", same_plugin=True), key=checks.provider_key, displaces=True),
    *(_provider_row(kind, since) for kind, since in (
        ("web_search", "0.19.0"), ("browser", "0.19.0"), ("image_gen", "0.19.0"),
        ("video_gen", "0.19.0"), ("transcription", "0.19.0"), ("tts", "0.19.0"),
        ("terminal_environment", "main"), ("secret_source", "main"))),
    _row("context_reference", "register_context_reference",
         "Register a provider serving @prefix: references in messages.",
         (_P("provider", "Any"),), instance_arg("provider"), checks.reference_prefix,
         unique(), key=checks.reference_key, since="main", displaces=True),
    _row("dashboard_auth_provider", "register_dashboard_auth_provider",
         "Register a dashboard authentication provider.",
         (_P("provider", "Any"),), instance_arg("provider"), key=checks.provider_key, since="main",
         displaces=True, host_base="hermes_cli.dashboard_auth:DashboardAuthProvider"),
    _row("auxiliary_task", "register_auxiliary_task",
         "Add an auxiliary.<key> model-task block to the host's configuration.",
         (_P("key", "str"), _P("display_name", "str", "", keyword_only=True),
          _P("description", "str", "", keyword_only=True),
          _P("defaults", "Mapping[str, Any] | None", None, keyword_only=True)),
         string_arg("key", pattern=checks.NAME, what="a config key"),
         reserved(checks.BUILTIN_AUX_TASKS, "auxiliary task"), unique(same_plugin=True),
         key=_arg("key"), since="main", displaces=True),
    _row("redaction_patterns", "register_redaction_patterns",
         "Add regular expressions whose matches are redacted; returns how many were accepted.",
         (_P("patterns", "Iterable[str | re.Pattern[str]]"),), checks.patterns_compile,
         key=lambda call: call.plugin, since="main", returns=checks.accepted_patterns),
    _row("platform", "register_platform",
         "Register a messaging platform adapter for the gateway.",
         (_P("name", "str"), _P("label", "str"), _P("adapter_factory", "Callable[..., Any]"),
          _P("check_fn", "Callable[..., Any]"), _P("validate_config", _OPTIONAL_FN, None),
          _P("required_env", "Sequence[str]", ()), _P("install_hint", "str", "")),
         string_arg("name", pattern=checks.NAME, what="a platform name"), string_arg("label"),
         callable_arg("adapter_factory"), callable_arg("check_fn"),
         callable_arg("validate_config", optional=True), unique(), checks.platform_entry,
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
         (_P("action_id", "str | re.Pattern[str] | Mapping[str, Any]"),
          _P("callback", "Callable[..., Any]")),
         checks.slack_action_id, callable_arg("callback"), key=checks.slack_action_key,
         since="main"),
    _row("approval_transport", "register_approval_transport",
         "Register present_fn, a way to ask the user for an approval.",
         (_P("name", "str"), _P("present_fn", "Callable[..., Any]")),
         string_arg("name"), callable_arg("present_fn"), checks.approval_reserved,
         unique(same_plugin=True), key=_arg("name"), displaces=True),
)  # fmt: skip

#: The kinds whose registration is one object the host reads again after registering it (each
#: provider kind, the context engine), and the method's parameter that takes it.
PROVIDER_OBJECTS: Final[Mapping[str, str]] = {
    method.kind: method.params[0].name
    for method in HERMES_SURFACE
    if method.params and method.params[0].name in ("provider", "engine")
}

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
