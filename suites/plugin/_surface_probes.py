"""Calling what a plugin registered through the Hermes surface the way the host would.

The checks KC-PL-007 to KC-PL-012 call hook callbacks, middleware, tool and command handlers and
memory-provider methods for real: with the keywords the host passes (a sample payload per hook),
an unknown extra keyword, and the host's treatment of awaitables. This module holds those
samples, the documented result shapes of the hooks whose results matter, and the host's
built-in tool names, so the suites only decide what to report.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from reference_runtime import describe_callable, resolve_awaitable

__all__ = [
    "BUILTIN_TOOLS",
    "MEMORY_PROVIDER_CALLS",
    "PROBE_KEYWORD",
    "RESULT_SHAPES",
    "Call",
    "ResultShape",
    "call_for_real",
    "differential",
    "hook_payload",
    "model_tool_definition",
    "tool_parameters",
]

#: The unknown keyword every probe call adds: a name no host passes, so only a callback that
#: takes ``**kwargs`` accepts it.
PROBE_KEYWORD: Final = "kora_conformance_new_keyword"

#: Tool names the upstream host defines itself (its core toolsets), which a plugin tool may only
#: take with an allowed override. The well-known ones, not necessarily all of them; the
#: reference runtime has no built-in tools, so the kit keeps this list.
BUILTIN_TOOLS: Final = frozenset(
    {"web_search", "web_extract", "terminal", "process", "read_file", "write_file", "patch",
     "search_files", "vision_analyze", "image_generate", "skills_list", "skill_view",
     "skill_manage", "browser_navigate", "browser_snapshot", "browser_click", "browser_type",
     "browser_scroll", "browser_back", "browser_press", "browser_get_images", "browser_vision",
     "browser_console", "text_to_speech", "todo", "memory", "session_search", "clarify",
     "execute_code", "delegate_task", "cronjob", "send_message"}
)  # fmt: skip

_SESSION: Final[Mapping[str, Any]] = {"session_id": "kc-session", "platform": "cli"}
_TOOL_CALL: Final[Mapping[str, Any]] = {
    **_SESSION,
    "tool_name": "kc_probe_tool",
    "args": {},
    "task_id": "kc-task",
}
#: What the host passes each hook, in the shape of upstream's call sites (the keywords that
#: matter for the hook; hosts add more over time, which is what the probe keyword stands for).
_PAYLOADS: Final[Mapping[str, Mapping[str, Any]]] = {
    "pre_tool_call": _TOOL_CALL,
    "post_tool_call": {**_TOOL_CALL, "result": '{"ok": true}'},
    "transform_tool_result": {**_TOOL_CALL, "result": '{"ok": true}'},
    "transform_terminal_output": {**_SESSION, "command": "echo kc", "output": "kc\n"},
    "transform_llm_output": {**_SESSION, "response_text": "Hello.", "model": "kc-model"},
    "pre_llm_call": {
        **_SESSION,
        "user_message": "Hello.",
        "conversation_history": [],
        "is_first_turn": True,
        "model": "kc-model",
    },
    "post_llm_call": {
        **_SESSION,
        "user_message": "Hello.",
        "assistant_response": "Hi.",
        "conversation_history": [],
        "model": "kc-model",
    },
    "on_session_start": {**_SESSION, "model": "kc-model"},
    "on_session_end": {**_SESSION, "completed": True, "interrupted": False, "model": "kc-model"},
    "transform_api_error_classification": {**_SESSION, "error": "HTTP 529", "status_code": 529},
    "pre_gateway_dispatch": {**_SESSION, "text": "Hello.", "user_id": "kc-user"},
    "pre_verify": {**_SESSION, "response_text": "Done."},
    "pre_transcription": {**_SESSION, "audio_path": "kc.ogg", "language": "en"},
    "pre_tts_synthesis": {**_SESSION, "text": "Hello."},
}


def hook_payload(hook: str) -> dict[str, Any]:
    """The keywords the host passes ``hook`` (a session's for hooks without a sample)."""
    return dict(_PAYLOADS.get(hook, _SESSION))


@dataclasses.dataclass(frozen=True)
class Call:
    """One probe call's outcome.

    :param result: what the callable returned, awaited when it returned an awaitable.
    :param awaited: whether it returned an awaitable.
    :param error: what it raised (on the call or while awaiting), if anything.
    """

    described: str
    result: Any = None
    awaited: bool = False
    error: BaseException | None = None
    keywords: tuple[str, ...] = ()

    @property
    def rejected_keyword(self) -> str | None:
        """The keyword it refused, when it raised ``TypeError`` for one the call passed: the
        probe, or one of the host's keywords it does not name and has no ``**kwargs`` for."""
        if not isinstance(self.error, TypeError):
            return None
        match = _REJECTED.search(str(self.error))
        name = next((g for g in match.groups() if g), None) if match else None
        return name if name in self.keywords else None

    @property
    def rejected_probe(self) -> bool:
        """Whether it refused a keyword the call passed (see :attr:`rejected_keyword`)."""
        return self.rejected_keyword is not None

    def error_text(self) -> str:
        return "" if self.error is None else f"{type(self.error).__name__}: {self.error}"


_REJECTED: Final = re.compile(
    r"unexpected keyword argument '([^']+)'|'([^']+)' is an invalid keyword argument"
)


def _filled(fn: Callable[..., Any], keywords: dict[str, Any]) -> dict[str, Any]:
    """``keywords`` plus ``None`` for each required keyword parameter of ``fn`` they lack.

    The payloads are samples: a callback that needs a keyword the sample lacks still gets
    called, so what is judged is the unknown keyword, not the sample's coverage.
    """
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return keywords
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    missing = {
        p.name: None
        for p in parameters
        if p.kind in kinds and p.default is inspect.Parameter.empty and p.name not in keywords
    }
    return {**missing, **keywords}


def call_for_real(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    keywords: Mapping[str, Any] | None = None,
    *,
    probe: bool = True,
    fill: bool = False,
) -> Call:
    """Call ``fn(*args, **keywords)`` as the host does, plus the unknown :data:`PROBE_KEYWORD`
    when ``probe``; await an awaitable result; never raise.

    :param fill: pass ``None`` for required keyword parameters ``keywords`` lacks (hooks,
        whose payload is a sample).
    """
    call_keywords = dict(keywords or {})
    if fill:
        call_keywords = _filled(fn, call_keywords)
    if probe:
        call_keywords[PROBE_KEYWORD] = True
    described = describe_callable(fn)
    try:
        result = fn(*args, **call_keywords)
        awaited = inspect.isawaitable(result)
        if awaited:
            result = resolve_awaitable(result)
    except Exception as exc:  # noqa: BLE001 - what it raised is the finding
        return Call(described, error=exc, keywords=tuple(call_keywords))
    return Call(described, result=result, awaited=awaited, keywords=tuple(call_keywords))


def _normal(call: Call) -> str:
    """What a call's outcome is, as text two calls can be compared by: the result in JSON with
    sorted keys (an object by its ``repr``, which differs between objects), and whether it was
    awaited. Calls that raised are not compared this way."""
    try:
        shown = json.dumps(call.result, sort_keys=True, default=repr)
    except (TypeError, ValueError):  # circular, or keys JSON cannot carry
        shown = repr(call.result)
    return f"{'awaited ' if call.awaited else ''}{shown}"


def differential(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    keywords: Mapping[str, Any] | None = None,
    *,
    fill: bool = False,
) -> tuple[Call, str | None]:
    """Call ``fn`` as the host does without the unknown keyword, with it, and without it again;
    the call with it, and how the unknown keyword changed what ``fn`` does (``None``: not at all).

    A callback "accepts" a keyword only if it then does what it does without it: it must not
    raise when the plain call does not, and, when the two plain calls agree (the callback is
    deterministic for this input), it must return the same. A callback whose plain calls differ
    (a counter, a timestamp), or whose result names the unknown keyword (it reports what it was
    given), is only held to not raising.
    """
    plain = call_for_real(fn, args, keywords, probe=False, fill=fill)
    probed = call_for_real(fn, args, keywords, fill=fill)
    if probed.rejected_probe or plain.error is not None:
        return probed, None
    if probed.error is not None:
        return probed, f"raises {probed.error_text()} only when the unknown keyword is passed"
    again = call_for_real(fn, args, keywords, probe=False, fill=fill)
    shown = _normal(probed)
    # A callback that reports the keywords it got (a debug tool, a context built from them)
    # differs by the keyword itself, not in what it does.
    echoes = PROBE_KEYWORD in shown
    if again.error is None and not echoes and _normal(plain) == _normal(again) != shown:
        return probed, (
            f"returns {_clip(shown)} with the unknown keyword and "
            f"{_clip(_normal(plain))} without it"
        )
    return probed, None


def signature_of(fn: Callable[..., Any]) -> str:
    """``name(params)`` for messages; the bare name when there is no signature."""
    try:
        return f"{describe_callable(fn)}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return describe_callable(fn)


#: The memory-provider methods the host calls with keyword data, with sample arguments: the
#: lifecycle of upstream's ``MemoryProvider`` (``initialize``, ``prefetch``, ``sync_turn``, ...),
#: and whether the base class's signature of the method takes ``**kwargs`` (then the host may
#: pass keywords it adds later, and the method must accept an unknown one). ``prefetch``,
#: ``queue_prefetch`` and ``sync_turn`` name their keywords in the base class and take no
#: others; upstream reads a provider's signature before passing one it added later
#: (``messages=``), so they need accept only the keywords the host passes. Methods called without
#: arguments (``is_available``, ``get_tool_schemas``, ``shutdown``) are not probed. Only the
#: methods a provider defines are called.
MEMORY_PROVIDER_CALLS: Final[tuple[tuple[str, tuple[Any, ...], Mapping[str, Any], bool], ...]] = (
    ("initialize", ("kc-session",), {"platform": "cli", "agent_context": "primary"}, True),
    ("prefetch", ("kc query",), {"session_id": "kc-session"}, False),
    ("queue_prefetch", ("kc query",), {"session_id": "kc-session"}, False),
    ("sync_turn", ("Hello.", "Hi."), {"session_id": "kc-session"}, False),
    ("on_turn_start", (1, "Hello."), {"platform": "cli"}, True),
    ("on_session_switch", ("kc-session-2",), {"parent_session_id": "kc-session"}, True),
    ("on_delegation", ("kc task", "kc result"), {"child_session_id": "kc-child"}, True),
    ("handle_tool_call", ("kc_probe_tool", {}), {"task_id": "kc-task"}, True),
)


# --- the hooks whose results matter -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResultShape:
    """What a hook's callbacks may return besides ``None``, as the host reads it.

    :param documented: the shape, for messages.
    :param problem: what is wrong with a non-``None`` result, or ``None`` when it fits.
    """

    documented: str
    problem: Callable[[Any], str | None]


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"a {type(value).__name__}, not a string"


def _directive(actions: Mapping[str, Callable[[Mapping[str, Any]], str | None]]) -> Any:
    def problem(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return f"a {type(value).__name__}, not a directive mapping"
        action = value.get("action")
        if not isinstance(action, str) or action not in actions:
            known = ", ".join(repr(a) for a in actions)
            return f"action {action!r}, not one of {known}"
        return actions[action](value)

    return problem


def _needs(field: str, kind: type, what: str) -> Callable[[Mapping[str, Any]], str | None]:
    def problem(value: Mapping[str, Any]) -> str | None:
        got = value.get(field)
        return None if isinstance(got, kind) else f"{field!r} is {got!r}, not {what}"

    return problem


def _no_rule(value: Mapping[str, Any]) -> str | None:
    return None


def _llm_context(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if isinstance(value, Mapping):
        context = value.get("context")
        if isinstance(context, str):
            return None
        # {} or {"context": None}: nothing to add, which the host skips as it skips None. Any
        # other key is a context the host never reads (a misspelt "context", say).
        if context is None and not set(value) - {"context"}:
            return None
    return f"{type(value).__name__} {_short(value)}, not a string or {{'context': str}}"


def _classification(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("reason"), str) and value["reason"]:
        return None
    return f"{_short(value)}, not a mapping with a non-empty 'reason'"


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, Mapping) else f"a {type(value).__name__}, not a mapping"


def _verify(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("action") == "continue":
        return None
    if (
        isinstance(value, Mapping)
        and value.get("decision") == "block"
        and isinstance(value.get("reason"), str)
    ):
        return None
    return f"{_short(value)}, not {{'action': 'continue'}} or {{'decision': 'block', 'reason'}}"


def _tts(value: Any) -> str | None:
    if isinstance(value, Mapping) and (
        value.get("action") == "block" or isinstance(value.get("text"), str)
    ):
        return None
    return f"{_short(value)}, not {{'action': 'block'}} or {{'text': str}}"


def _clip(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_TRANSFORM = ResultShape("a string (the replacement)", _string)

#: The hooks whose results the host interprets, and the shapes it accepts (research notes 3.3).
#: Any other non-``None`` result is ignored by the host: the plugin's intent is lost.
RESULT_SHAPES: Final[Mapping[str, ResultShape]] = {
    "pre_tool_call": ResultShape(
        "{'action': 'block', 'message': str}, {'action': 'approve'} or "
        "{'action': 'modify', 'args': dict}",
        _directive(
            {
                "block": _needs("message", str, "a string"),
                "approve": _no_rule,
                "modify": _needs("args", Mapping, "a mapping"),
            }
        ),
    ),
    "pre_llm_call": ResultShape("a string or {'context': str}", _llm_context),
    "transform_tool_result": _TRANSFORM,
    "transform_terminal_output": _TRANSFORM,
    "transform_llm_output": _TRANSFORM,
    "transform_api_error_classification": ResultShape(
        "a mapping with a non-empty 'reason'", _classification
    ),
    "pre_transcription": ResultShape("a mapping of fields to change", _mapping),
    "pre_gateway_dispatch": ResultShape(
        "{'action': 'skip' | 'rewrite' | 'allow', ...}",
        _directive({"skip": _no_rule, "rewrite": _no_rule, "allow": _no_rule}),
    ),
    "pre_verify": ResultShape(
        "{'action': 'continue'} or {'decision': 'block', 'reason': str}", _verify
    ),
    "pre_tts_synthesis": ResultShape("{'action': 'block'} or {'text': str}", _tts),
}


# --- tools ----------------------------------------------------------------------------------


#: What a tool schema without ``parameters`` stands for: no arguments. Upstream sends that to
#: the model in its place (its Anthropic adapter's default), and the OpenAI function format
#: makes ``parameters`` optional.
NO_PARAMETERS: Final[Mapping[str, Any]] = types.MappingProxyType(
    {"type": "object", "properties": {}}
)


def tool_parameters(schema: Mapping[str, Any]) -> Any:
    """The JSON Schema of a tool's arguments: its ``parameters``, or none (no arguments)."""
    return schema.get("parameters", NO_PARAMETERS)


def model_tool_definition(name: str, schema: Mapping[str, Any], description: str) -> Any:
    """The function definition the host sends the model for a tool: ``{"type": "function",
    "function": {name, description, parameters}}``, round-tripped through JSON (the wire).

    :raises TypeError: the schema holds something JSON cannot carry.
    :raises ValueError: likewise (a circular structure).
    """
    function = {
        "name": name,
        "description": schema.get("description", description),
        "parameters": dict(tool_parameters(schema)),
    }
    return json.loads(json.dumps({"type": "function", "function": function}))
