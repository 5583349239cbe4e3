"""The payloads KC-PL-009 sends the hooks whose results the host reads: the sample of each hook
varied along the fields a callback most often branches on.

A callback may return the documented shape for one payload and not for another (a first turn
and a later one, a harmless tool and ``terminal``, an empty result). Each hook's fields to vary
and their values are listed here; :func:`payload_variants` yields the sample with every
combination of them, in a fixed order, so the verdict is the same on every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from kora_conformance.suites.plugin._surface_probes import hook_payload

__all__ = ["VARIED_FIELDS", "payload_variants"]

_TEXTS: Final = ("Hello.", "", "Remember: the meeting moved to Friday, 10:00 (not 9:00).")
_RESULTS: Final = ('{"ok": true}', '{"error": "failed"}', "", "plain text, not JSON")
_HISTORY: Final[tuple[list[dict[str, str]], ...]] = (
    [],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}],
)
_TOOL_NAMES: Final = ("kc_probe_tool", "terminal", "read_file")
_TOOL_ARGS: Final[tuple[dict[str, str], ...]] = (
    {},
    {"command": "rm -rf /tmp/kc"},
    {"path": "/etc/hosts"},
)

#: Hook → field → the values it takes (the first is the sample's own, or close to it).
VARIED_FIELDS: Final[Mapping[str, Mapping[str, Sequence[Any]]]] = {
    "pre_tool_call": {"tool_name": _TOOL_NAMES, "args": _TOOL_ARGS},
    "transform_tool_result": {"tool_name": _TOOL_NAMES, "result": _RESULTS},
    "transform_terminal_output": {
        "command": ("echo kc", "ls -la", ""),
        "output": ("kc\n", "", "x" * 5000),
    },
    "transform_llm_output": {"response_text": (*_TEXTS, "```python\nprint(1)\n```")},
    "pre_llm_call": {
        "is_first_turn": (True, False),
        "user_message": _TEXTS,
        "conversation_history": _HISTORY,
    },
    "transform_api_error_classification": {
        "status_code": (529, 429, 500, 400),
        "error": ("HTTP 529", "rate limited", "context length exceeded"),
    },
    "pre_gateway_dispatch": {
        "text": ("Hello.", "/help", ""),
        "platform": ("cli", "telegram", "discord"),
    },
    "pre_verify": {"response_text": ("Done.", "", "I could not finish the task.")},
    "pre_transcription": {"language": ("en", None, "de")},
    "pre_tts_synthesis": {"text": ("Hello.", "", "a" * 2000)},
}


def payload_variants(
    hook: str, limit: int, tool_names: Sequence[str] = ()
) -> Iterator[dict[str, Any]]:
    """The sample payload of ``hook`` with every combination of its varied fields, at most
    ``limit`` of them (the sample itself first). ``tool_names`` (the plugin's own tools) join
    the tool names a ``tool_name`` field takes.

    Combinations come in order of how far they are from the first values (each field changed
    alone first, then two at once, ...), so a small ``limit`` still changes every field.
    """
    sample = hook_payload(hook)
    fields = {k: tuple(v) for k, v in VARIED_FIELDS.get(hook, {}).items()}
    if "tool_name" in fields:
        fields["tool_name"] = (*fields["tool_name"], *tool_names)
    yield sample
    indices = itertools.product(*(range(len(values)) for values in fields.values()))
    ordered = sorted(indices, key=lambda at: (sum(at), at))
    seen = [sample]
    for at in ordered:
        if len(seen) >= limit:
            return
        variant = {**sample, **{f: fields[f][i] for f, i in zip(fields, at, strict=True)}}
        if variant not in seen:  # the first values may be the sample's own
            seen.append(variant)
            yield variant
