"""Hook specifications: the names a plugin may register and what they mean.

Every hook is a pluggy hook of the ``kora`` project. Callbacks registered through a
:class:`~reference_runtime.PluginContext` receive the call's keyword arguments unchanged; pluggy
itself narrows arguments by signature, so the runtime hands each hook one ``context`` mapping and
its wrappers spread it back into keywords. A plugin that implements hooks natively with
:data:`hookimpl` receives that mapping as ``context``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pluggy

from ._identity import IdentitySpec

__all__ = [
    "HERMES_HOOKS",
    "IDENTITY_HOOK",
    "KNOWN_HOOKS",
    "PROJECT_NAME",
    "HookSpecs",
    "hookimpl",
    "hookspec",
]

#: The pluggy project name shared by specs and implementations.
PROJECT_NAME: Final = "kora"

hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)

#: The hook through which plugins supply the agent's identity.
IDENTITY_HOOK: Final = "pre_agent_identity_set"

#: Hook names the upstream Hermes runtime and the Kora fork define, in no meaningful order.
#: They are observers or transformers whose results the host interprets; the runtime dispatches
#: them in plugin order and returns every non-None result.
HERMES_HOOKS: Final[tuple[str, ...]] = (
    "agent_loop_stopped",
    "api_request_error",
    "gateway_platform_event",
    "kanban_task_blocked",
    "kanban_task_claimed",
    "kanban_task_completed",
    "on_interim_message",
    "on_kanban_dispatch_tick",
    "on_kanban_event",
    "on_kanban_task_updated",
    "on_kanban_worker_exited",
    "on_kanban_worker_spawned",
    "on_kanban_worker_stale_claim",
    "on_room_member_activity",
    "on_session_end",
    "on_session_finalize",
    "on_session_reset",
    "on_session_start",
    "on_skill_lifecycle",
    "on_stream_delta",
    "on_stream_end",
    "on_stream_start",
    "post_api_request",
    "post_approval_response",
    "post_auxiliary_call",
    "post_llm_call",
    "post_llm_call_can_reissue",
    "post_tool_call",
    "pre_api_request",
    "pre_api_request_mutable",
    "pre_approval_request",
    "pre_auxiliary_call",
    "pre_command",
    "pre_gateway_dispatch",
    "pre_llm_call",
    "pre_response_delivery",
    "pre_tool_call",
    "pre_tool_call_can_provide_result",
    "pre_tool_list_finalized",
    "pre_transcription",
    "pre_tts_synthesis",
    "pre_verify",
    "subagent_start",
    "subagent_stop",
    "transform_api_error_classification",
    "transform_llm_output",
    "transform_terminal_output",
    "transform_tool_result",
)

#: Every hook name the runtime knows; registering another is accepted with a warning.
KNOWN_HOOKS: Final[frozenset[str]] = frozenset((*HERMES_HOOKS, IDENTITY_HOOK))


class HookSpecs:
    """The hook specifications registered with every runtime's plugin manager."""

    @hookspec(firstresult=True)
    def pre_agent_identity_set(
        self, context: Mapping[str, Any]
    ) -> Mapping[str, IdentitySpec] | None:
        """Supply the agent's identity for the engine being built.

        Called once per engine construction, before any fallback read, with ``engine`` and
        possibly further keywords in ``context``. Return ``{"identity": IdentitySpec}`` to claim,
        or ``None`` to decline. Implementations are consulted in plugin order
        (``plugins.enabled``) and the first valid claim wins; later ones are not called.
        """


def _observer_spec(name: str) -> Any:
    def spec(self: HookSpecs, context: Mapping[str, Any]) -> Any:
        """Called in plugin order with the host's keywords; every non-None result is returned."""

    spec.__name__ = name
    # A dotted qualname tells pluggy the first argument is the implicit `self`; without it
    # every call warns that the hook call lacks a `self` argument.
    spec.__qualname__ = f"{HookSpecs.__qualname__}.{name}"
    return hookspec(spec)


for _name in HERMES_HOOKS:
    setattr(HookSpecs, _name, _observer_spec(_name))
del _name
