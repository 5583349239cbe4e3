"""The identity a plugin hands the reasoning engine.

:class:`IdentitySpec` is the value type plugins construct; :class:`IdentityProvider` is the shape of
the callable they register; :class:`ResolvedIdentity` is what resolution produces, recording who
supplied the identity so operators can tell; :func:`read_fallback_identity` is the file read a
runtime falls back on when no provider claims the identity.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from ._config import ENV_SYSTEM_PROMPT_PATH
from ._errors import IdentityResolutionError, IdentitySpecError

__all__ = ["IdentityProvider", "IdentitySpec", "ResolvedIdentity", "read_fallback_identity"]


def _frozen_metadata(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = (
            f"IdentitySpec.identity_metadata must be a mapping, got {type(value).__name__}; "
            "pass a dict such as {'agent_name': 'Marvin'}"
        )
        raise IdentitySpecError(msg, field="identity_metadata")
    for key in value:
        if not isinstance(key, str):
            msg = (
                f"IdentitySpec.identity_metadata keys must be str, got {key!r} "
                f"({type(key).__name__}); use string keys such as 'agent_name'"
            )
            raise IdentitySpecError(msg, field="identity_metadata")
    # A private copy behind a read-only view: the caller's dict stays theirs, and nobody can
    # mutate the spec's metadata through it.
    return types.MappingProxyType(dict(value))


@dataclasses.dataclass(frozen=True)
class IdentitySpec:
    """An agent's persona and system prompt, immutable once built.

    Fields are positional in this order, or keywords:

    :param soul_md_content: the persona text (historically ``SOUL.md``); may be empty.
    :param system_prompt_content: the reasoning engine's system prompt; a non-blank string.
    :param identity_metadata: free-form facts; conventional keys are ``agent_name``,
        ``agent_version`` and ``plugin_name``. Copied and exposed read-only.
    :raises IdentitySpecError: a field breaks its rule; the error names the field.

    A plugin that cannot supply a whole identity returns ``None`` from its provider rather than
    building a partial spec.
    """

    soul_md_content: str
    system_prompt_content: str
    identity_metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        # Plugins are untyped callers: check what the annotations only promise.
        soul: object = self.soul_md_content
        prompt: object = self.system_prompt_content
        if not isinstance(soul, str):
            msg = (
                "IdentitySpec.soul_md_content must be a str, got "
                f"{type(soul).__name__}; pass '' when there is no persona"
            )
            raise IdentitySpecError(msg, field="soul_md_content")
        if not isinstance(prompt, str):
            msg = (
                "IdentitySpec.system_prompt_content must be a str, got "
                f"{type(prompt).__name__}; pass the prompt text"
            )
            raise IdentitySpecError(msg, field="system_prompt_content")
        if not prompt.strip():
            msg = (
                "IdentitySpec.system_prompt_content must not be blank; a provider that has no "
                "prompt should return None so the next provider or the fallback file is used"
            )
            raise IdentitySpecError(msg, field="system_prompt_content")
        object.__setattr__(self, "identity_metadata", _frozen_metadata(self.identity_metadata))


class IdentityProvider(Protocol):
    """A callable that supplies an identity, or declines with ``None``.

    It is called with keyword arguments only: ``engine`` (the engine being built) and possibly
    further context keywords added by later runtimes, which it must tolerate (``**kwargs``).
    """

    def __call__(self, *, engine: Any, **kwargs: Any) -> IdentitySpec | None: ...


@dataclasses.dataclass(frozen=True)
class ResolvedIdentity:
    """The outcome of identity resolution.

    :param spec: the identity the engine uses.
    :param source: ``"plugin"`` when a provider claimed it, ``"file"`` for the fallback read.
    :param plugin: the winning plugin's name (``source == "plugin"``), else ``None``.
    :param path: the fallback file read (``source == "file"``), else ``None``.
    """

    spec: IdentitySpec
    source: Literal["plugin", "file"]
    plugin: str | None = None
    path: Path | None = None

    def describe(self) -> str:
        """One line for operators: who supplied the identity."""
        if self.source == "plugin":
            return f"identity supplied by plugin {self.plugin!r}"
        return f"identity read from fallback file {self.path}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the ``identity`` command's ``--json`` shape)."""
        return {
            "source": self.source,
            "plugin": self.plugin,
            "path": None if self.path is None else str(self.path),
            "identity": {
                "soul_md_content": self.spec.soul_md_content,
                "system_prompt_content": self.spec.system_prompt_content,
                "identity_metadata": dict(self.spec.identity_metadata),
            },
        }


def read_fallback_identity(
    explicit: Path | None,
    default: Path,
    environ: Mapping[str, str] | None = None,
) -> ResolvedIdentity:
    """Read the fallback system prompt: ``explicit`` > ``$KORA_SYSTEM_PROMPT_PATH`` > ``default``.

    :raises IdentityResolutionError: the file is missing, unreadable or blank. The message names
        the path, where it came from, and the variable that overrides it.
    """
    env = (os.environ if environ is None else environ).get(ENV_SYSTEM_PROMPT_PATH, "").strip()
    if explicit is not None:
        path, source = Path(explicit), "the system_prompt_path argument"
    elif env:
        path, source = Path(env), f"${ENV_SYSTEM_PROMPT_PATH}"
    else:
        path, source = Path(default), "the runtime's default path"
    path = path.expanduser()
    fix = (
        f"enable an identity plugin, or point {ENV_SYSTEM_PROMPT_PATH} (or --system-prompt-path) "
        "at a non-blank prompt file"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        missing = isinstance(exc, FileNotFoundError)
        reason = "does not exist" if missing else f"cannot be read ({exc})"
        msg = (
            f"no identity provider claimed the identity and the fallback system prompt {path} "
            f"(from {source}) {reason}; {fix}"
        )
        raise IdentityResolutionError(msg, path=path) from exc
    if not text.strip():
        msg = (
            f"no identity provider claimed the identity and the fallback system prompt {path} "
            f"(from {source}) is blank; {fix}"
        )
        raise IdentityResolutionError(msg, path=path)
    return ResolvedIdentity(IdentitySpec("", text), "file", path=path)
