"""The Messages API as the wire checks fake it: a canned reply, and the request a send made.

The checks that look at what reached the wire (KC-ID-006, KC-RT-010) let an engine send one
message with respx mocking the HTTP transport, then read the request body. respx is imported
only when such a check runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from kora_conformance._contract import MODEL

__all__ = ["PROBE_MESSAGE", "Sent", "messages_reply", "send_captured", "system_texts"]

#: What the checks send: any text will do, the system content is what they read.
PROBE_MESSAGE: Final = "Conformance probe: who are you?"


def messages_reply(text: str) -> dict[str, Any]:
    """A complete Messages API response carrying ``text``."""
    return {
        "id": "msg_kora_conformance",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


@dataclasses.dataclass(frozen=True)
class Sent:
    """What one send put on the wire."""

    #: The JSON body of the last request that matched, or ``None`` when none reached the wire.
    body: dict[str, Any] | None
    #: What the send raised, if anything (an error after the request was made, say).
    error: Exception | None


def send_captured(send: Callable[[str], object], **pattern: Any) -> Sent:
    """Call ``send`` with :data:`PROBE_MESSAGE` while respx answers POST requests matching
    ``pattern`` (respx lookups: ``url=...``, ``path__regex=...``) with a canned reply."""
    import pytest_httpx2  # noqa: F401, PLC0415 - registers respx's httpcore2 mocker
    import respx  # noqa: PLC0415

    error: Exception | None = None
    with respx.mock(using="httpcore2", assert_all_called=False) as router:
        route = router.post(**pattern).respond(200, json=messages_reply("ok"))
        try:
            send(PROBE_MESSAGE)
        except Exception as exc:  # noqa: BLE001 - reported with what reached the wire
            error = exc
    if not route.called:
        return Sent(None, error)
    return Sent(json.loads(route.calls.last.request.content), error)


def system_texts(system: object) -> list[str]:
    """The texts of a request's ``system`` content: the string itself, or its blocks' texts."""
    if isinstance(system, str):
        return [system]
    if isinstance(system, list):
        return [
            block["text"]
            for block in system
            if isinstance(block, Mapping) and isinstance(block.get("text"), str)
        ]
    return []
