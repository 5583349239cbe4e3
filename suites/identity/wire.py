"""KC-ID-006: the plugin's system prompt on the wire, request after request, engine after engine.

Requests go to a respx-mocked Messages API (:func:`kora_conformance.harness.send_captured`);
the kit reads the ``system`` content of each.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import Any, Final

from kora_conformance import CheckContext, Suite, needs_identity
from kora_conformance.harness import PROBE_MESSAGE, send_captured, system_texts
from kora_conformance.suites.identity._claimants import call_directly, claimants, load_plugin
from reference_runtime import IdentityResolutionError, ReasoningEngine, Runtime

suite = Suite("identity")

MESSAGES_URL: Final = "https://api.anthropic.com/v1/messages"
API_BASE_URL: Final = "https://api.anthropic.com"

#: A conversation with history, as the second and later turns of a chat send it.
_CONVERSATION: Final[tuple[dict[str, Any], ...]] = (
    {"role": "user", "content": PROBE_MESSAGE},
    {"role": "assistant", "content": "ok"},
    {"role": "user", "content": "And what can you do?"},
)


def _engine(ctx: CheckContext, runtime: Runtime) -> ReasoningEngine:
    try:
        return ReasoningEngine(runtime, api_key="test-key", base_url=API_BASE_URL)
    except IdentityResolutionError as exc:
        ctx.fail(expected="the engine to take the plugin's identity", seen=str(exc))


def _requests(
    ctx: CheckContext,
) -> list[tuple[str, Callable[[str], object]]]:
    """The sends, in order: three from one engine (the first turn, a conversation with
    history, the first turn again), one from a second engine on the same runtime, one from an
    engine on a second fresh runtime."""
    runtime = ctx.runtime()
    first = _engine(ctx, runtime)
    second = _engine(ctx, runtime)
    other = _engine(ctx, ctx.runtime())
    return [
        ("the first request of an engine", first.send),
        ("its second request (a conversation with history)", lambda _: first.send(_CONVERSATION)),
        ("its third request", first.send),
        ("the first request of a second engine on the same runtime", second.send),
        ("the second engine's second request (with history)",
         lambda _: second.send(_CONVERSATION)),
        ("the first request of an engine on a second fresh runtime", other.send),
    ]  # fmt: skip


@suite.check("KC-ID-006", applies=needs_identity)
def system_prompt_on_the_wire(ctx: CheckContext) -> None:
    """Space: the first, second (a conversation with history) and later requests of one
    engine, and the requests of a second engine on the same runtime and of an engine on a
    second fresh runtime: each request's ``system`` carries the plugin's system prompt as a
    text block, whatever a request hook (the plugin's or another's) does."""
    plugin = load_plugin(ctx)
    specs = [spec for c in claimants(plugin) if (spec := call_directly(c).spec) is not None]
    if not specs:
        ctx.skip("no identity provider returned an IdentitySpec (see KC-ID-001)")
    prompt = specs[0].system_prompt_content
    for what, send in _requests(ctx):
        sent = send_captured(send, url=MESSAGES_URL)
        if sent.body is None:
            ctx.fail(
                expected=f"{what} to reach the wire carrying the system prompt",
                seen=f"no request reached the wire ({type(sent.error).__name__}: {sent.error})",
            )
        system = sent.body.get("system")
        blocks = system if isinstance(system, list) else []
        if not isinstance(system, list) or prompt not in system_texts(blocks):
            ctx.fail(
                expected=f"{what}: its system content carries the plugin's system prompt as a "
                f"text block ({reprlib.repr(prompt)})",
                seen=f"system = {reprlib.repr(system)}",
                detail="a pre_api_request_mutable hook (this plugin's or another's) may have "
                "overridden 'system'",
            )
