"""What the runtime logged about plugins during a call, and how the host combines hook results."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from kora_conformance._contract import IDENTITY_HOOK

__all__ = [
    "HOOK_RULES",
    "PRE_LLM_CALL_CAP",
    "HookOutcome",
    "HookRule",
    "HostWarning",
    "Results",
    "combine_results",
    "watching",
]

_log = logging.getLogger("reference_runtime")

#: The upstream cap on one ``pre_llm_call`` result (the host spills the rest to a file).
PRE_LLM_CALL_CAP: Final = 10_000


@dataclasses.dataclass(frozen=True)
class HostWarning:
    """A WARNING the runtime logged about a plugin while the host called it.

    :ivar plugin: the plugin it names.
    :ivar message: the runtime's message, as an operator reads it.
    :ivar error: the exception the plugin raised, when it raised.
    """

    plugin: str
    message: str
    error: BaseException | None = None


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _host_warning(record: logging.LogRecord) -> HostWarning | None:
    # The runtime's per-plugin warnings name the plugin first ("plugin %r: ..."); an exception
    # it isolated is among the arguments.
    args = record.args if isinstance(record.args, tuple) else ()
    if not args or not isinstance(args[0], str) or not str(record.msg).startswith("plugin %r"):
        return None
    error = next((a for a in args if isinstance(a, BaseException)), None)
    return HostWarning(args[0], record.getMessage(), error)


@contextlib.contextmanager
def watching() -> Iterator[list[HostWarning]]:
    """Collect the runtime's per-plugin warnings logged inside the block."""
    recorder = _Recorder()
    level = _log.level
    # A test (or the author's logging setup) that quiets the runtime must not hide a plugin's
    # failure from the host.
    if _log.getEffectiveLevel() > logging.WARNING:
        _log.setLevel(logging.WARNING)
    _log.addHandler(recorder)
    found: list[HostWarning] = []
    try:
        yield found
    finally:
        _log.removeHandler(recorder)
        _log.setLevel(level)
        found.extend(w for w in map(_host_warning, recorder.records) if w is not None)


Results = Sequence[tuple[str, Any]]


@dataclasses.dataclass(frozen=True)
class HookRule:
    """How the host combines one hook's results.

    :ivar summary: the rule, in a sentence.
    :ivar combine: ``(results, warnings) -> combined``; ``results`` are ``(plugin, value)``
        pairs in plugin order (``None`` results already dropped), ``warnings`` what was logged.
    """

    summary: str
    combine: Callable[[Results, Sequence[HostWarning]], Any]


def _action(value: object, *actions: str) -> str | None:
    if isinstance(value, Mapping):
        action = value.get("action")
        if isinstance(action, str) and action in actions:
            return action
    return None


def _pre_tool_call(results: Results, warnings: Sequence[HostWarning]) -> Any:
    # The documented rule: a block beats an approve whatever the order; a callback that raised
    # fails closed, as a block naming it.
    blocks = [dict(v) for _, v in results if _action(v, "block")]
    blocks += [{"action": "block", "message": w.message} for w in warnings if w.error is not None]
    if blocks:
        return blocks[0]
    approve = next((dict(v) for _, v in results if _action(v, "approve")), None)
    if approve is not None:
        return approve
    merged: dict[str, Any] = {}
    modified = False
    for _, value in results:
        if _action(value, "modify") and isinstance(value.get("args"), Mapping):
            merged.update(value["args"])
            modified = True
    return {"action": "modify", "args": merged} if modified else None


def _pre_llm_call(results: Results, warnings: Sequence[HostWarning]) -> Any:
    parts = []
    for _, value in results:
        text = value.get("context") if isinstance(value, Mapping) else value
        if isinstance(text, str) and text.strip():
            parts.append(text[:PRE_LLM_CALL_CAP])
    return "\n\n".join(parts) if parts else None


def _first_string(*, non_empty: bool) -> Callable[[Results, Sequence[HostWarning]], Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        for _, value in results:
            if isinstance(value, str) and (value.strip() or not non_empty):
                return value
        return None

    return combine


def _first_mapping(test: Callable[[Mapping[str, Any]], bool]) -> Callable[..., Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        return next((dict(v) for _, v in results if isinstance(v, Mapping) and test(v)), None)

    return combine


def _merged(key: str | None) -> Callable[[Results, Sequence[HostWarning]], Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        merged: dict[str, Any] = {}
        found = False
        for _, value in results:
            part = value.get(key) if key is not None and isinstance(value, Mapping) else value
            if isinstance(part, Mapping):
                merged.update(part)
                found = True
        return merged if found else None

    return combine


def _pre_tts_synthesis(results: Results, warnings: Sequence[HostWarning]) -> Any:
    failed = next((w for w in warnings if w.error is not None), None)
    if failed is not None:
        return {"action": "block", "message": failed.message}
    for _, value in results:
        if _action(value, "block") or (isinstance(value, Mapping) and "text" in value):
            return dict(value)
    return None


def _identity(results: Results, warnings: Sequence[HostWarning]) -> Any:
    return next((v["identity"] for _, v in results), None)


def _reason(value: Mapping[str, Any]) -> bool:
    reason = value.get("reason")
    return isinstance(reason, str) and bool(reason.strip())


#: The hooks whose results the host interprets, and how; every other hook is an observer
#: (its results are returned, their combination is ``None``). Where upstream's code and its
#: documentation disagree (``pre_tool_call``), the documentation's rule is used.
HOOK_RULES: Final[Mapping[str, HookRule]] = types.MappingProxyType(
    {
        IDENTITY_HOOK: HookRule(
            "the first valid claim in plugin order wins; later providers are not called",
            _identity,
        ),
        "pre_api_request_mutable": HookRule(
            "every {'override': {...}} is merged into the request in plugin order, a later "
            "plugin's key replacing an earlier one's",
            _merged("override"),
        ),
        "pre_gateway_dispatch": HookRule(
            "the first valid skip, rewrite or allow decides",
            _first_mapping(lambda v: _action(v, "skip", "rewrite", "allow") is not None),
        ),
        "pre_llm_call": HookRule(
            "every non-empty string or {'context': str} is joined with blank lines and appended "
            f"to the user message; each is capped at {PRE_LLM_CALL_CAP:,} characters",
            _pre_llm_call,
        ),
        "pre_tool_call": HookRule(
            "a block beats an approve whatever the order (a callback that raised blocks); else "
            "the first approve; else every modify's args shallow-merged in order",
            _pre_tool_call,
        ),
        "pre_transcription": HookRule(
            "returned mappings apply in plugin order, the last writer winning per field",
            _merged(None),
        ),
        "pre_tts_synthesis": HookRule(
            "the first block or {'text'} rewrite decides; a callback that raised blocks",
            _pre_tts_synthesis,
        ),
        "pre_verify": HookRule(
            "the first valid {'action': 'continue'} or {'decision': 'block', 'reason'} decides",
            _first_mapping(
                lambda v: _action(v, "continue") is not None or v.get("decision") == "block"
            ),
        ),
        "transform_api_error_classification": HookRule(
            "the first result with a non-empty 'reason' wins",
            _first_mapping(_reason),
        ),
        "transform_llm_output": HookRule(
            "the first non-empty string replaces the model's output", _first_string(non_empty=True)
        ),
        "transform_terminal_output": HookRule(
            "the first string returned replaces the output", _first_string(non_empty=False)
        ),
        "transform_tool_result": HookRule(
            "the first string returned replaces the tool's result", _first_string(non_empty=False)
        ),
    }
)

_OBSERVER: Final = HookRule("an observer: the host ignores the results", lambda r, w: None)


def combine_results(hook: str, results: Results, warnings: Sequence[HostWarning] = ()) -> Any:
    """Combine ``hook``'s ``(plugin, value)`` results as the host does (:data:`HOOK_RULES`)."""
    return HOOK_RULES.get(hook, _OBSERVER).combine(results, warnings)


@dataclasses.dataclass(frozen=True)
class HookOutcome:
    """One hook call: what each plugin returned, what the host made of it, what it logged.

    :ivar hook: the hook called.
    :ivar results: ``(plugin, value)`` for each non-``None`` result, in plugin order.
    :ivar combined: the results combined by the hook's rule (:attr:`rule`); ``None`` when
        nothing applies (for a transform: the host keeps its own value).
    :ivar warnings: what the runtime logged about plugins during the call.
    """

    hook: str
    results: tuple[tuple[str, Any], ...]
    combined: Any
    warnings: tuple[HostWarning, ...] = ()

    @property
    def values(self) -> list[Any]:
        """The results without their plugins, as ``invoke_hook`` returns them."""
        return [value for _, value in self.results]

    @property
    def rule(self) -> str:
        """How this hook's results were combined."""
        return HOOK_RULES.get(self.hook, _OBSERVER).summary

    def by_plugin(self, plugin: str) -> list[Any]:
        """The results ``plugin`` returned."""
        return [value for name, value in self.results if name == plugin]
