"""The reasoning engine: the identity a runtime resolves, sent on every Messages API request."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ._errors import EngineNotConfiguredError
from ._identity import ResolvedIdentity

if TYPE_CHECKING:
    import anthropic
    from anthropic.types import Message

    from ._runtime import Runtime

__all__ = ["DEFAULT_MODEL", "ENV_API_KEY", "REQUEST_HOOK", "ReasoningEngine"]

_log = logging.getLogger("reference_runtime")

#: The model requested unless the caller names another.
DEFAULT_MODEL: Final = "claude-sonnet-4-6"

#: The variable the engine reads its API key from.
ENV_API_KEY: Final = "ANTHROPIC_API_KEY"

#: The Hermes hook through which plugins may change a request before it is sent.
REQUEST_HOOK: Final = "pre_api_request_mutable"


class ReasoningEngine:
    """A Messages API client whose system content is the runtime's resolved identity.

    Construction fires ``pre_agent_identity_set`` exactly once (with ``engine=self``) and falls
    back to the system prompt file when no provider claims; it needs no credentials. Every request
    then carries the persona, when non-empty, followed by the system prompt, as ``system``.

    Before each request the engine fires Hermes' ``pre_api_request_mutable`` hook with
    ``request=`` (a copy of the request's keyword arguments: ``model``, ``max_tokens``,
    ``system``, ``messages``) and ``engine=self``. A callback changes the request by returning
    ``{"override": {key: value, ...}}``; overrides are merged into the request in plugin order,
    so a later plugin's value for a key replaces an earlier one's. Other results are ignored
    with a WARNING, and changing the copy in place has no effect.

    :param runtime: the runtime whose plugins supply the identity.
    :param model: the model requested.
    :param max_tokens: the default response budget.
    :param system_prompt_path: the fallback prompt file, overriding configuration and variable.
    :param api_key: the API key; ``$ANTHROPIC_API_KEY`` when omitted.
    :param base_url: the API base URL; the SDK's default when omitted.
    :raises IdentityResolutionError: nothing claimed and the fallback file failed.
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        model: str = DEFAULT_MODEL,
        max_tokens: int = 1024,
        system_prompt_path: Path | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self._runtime = runtime
        self.model = model
        self.max_tokens = max_tokens
        self._api_key = api_key
        self._base_url = base_url
        self._client: anthropic.Anthropic | None = None
        self.identity: ResolvedIdentity = runtime.resolve_identity(
            engine=self, system_prompt_path=system_prompt_path
        )

    @property
    def runtime(self) -> Runtime:
        """The runtime whose plugins supplied :attr:`identity` (and whose hooks each request
        fires)."""
        return self._runtime

    @property
    def system_blocks(self) -> list[dict[str, str]]:
        """The request's ``system`` content: persona (when non-empty), then system prompt."""
        spec = self.identity.spec
        texts = [spec.soul_md_content, spec.system_prompt_content]
        return [{"type": "text", "text": text} for text in texts if text.strip()]

    def _anthropic(self) -> anthropic.Anthropic:
        if self._client is None:
            key = self._api_key or os.environ.get(ENV_API_KEY, "").strip()
            if not key:
                msg = (
                    f"the reasoning engine has no API key; set {ENV_API_KEY} or pass api_key= "
                    "to ReasoningEngine (construction needs none, sending does)"
                )
                raise EngineNotConfiguredError(msg)
            # The SDK import costs most of a second; only engines that send pay it.
            import anthropic  # noqa: PLC0415

            self._client = anthropic.Anthropic(api_key=key, base_url=self._base_url)
        return self._client

    def send(
        self,
        content: str | Sequence[dict[str, Any]],
        *,
        max_tokens: int | None = None,
    ) -> Message:
        """Send one Messages API request and return the response.

        :param content: a user message, or a full list of ``messages``.
        :raises EngineNotConfiguredError: no API key is available.
        """
        messages: list[Any] = (
            [{"role": "user", "content": content}] if isinstance(content, str) else list(content)
        )
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens if max_tokens is None else max_tokens,
            "system": self.system_blocks,
            "messages": messages,
        }
        request.update(self._overrides(request))
        response: Message = self._anthropic().messages.create(**request)
        return response

    def _overrides(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Fire ``pre_api_request_mutable`` and merge the ``override`` results, left to right."""
        merged: dict[str, Any] = {}
        results = self._runtime.invoke_hook_attributed(
            REQUEST_HOOK, request=copy.deepcopy(dict(request)), engine=self
        )
        for plugin, result in results:
            override = result.get("override") if isinstance(result, Mapping) else None
            if isinstance(override, Mapping):
                merged.update(override)
            else:
                _log.warning(
                    "plugin %r: %s returned %r, not {'override': {...}}; ignored",
                    plugin,
                    REQUEST_HOOK,
                    result,
                )
        return merged
