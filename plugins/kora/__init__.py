"""Kora's identity plugin.

The provider claims Kora's identity from two files, read at every engine construction:

- the system prompt from ``$KORA_SYSTEM_PROMPT_PATH``, else ``kora_system_prompt.md`` here;
- the persona from ``$KORA_SOUL_MD_PATH``, else ``SOUL.md`` here (a missing persona is empty).

It declines (returns ``None``) when the system prompt is missing or blank, and when
``$KORA_DISABLE_IDENTITY_PROVIDER`` is true, leaving the identity to other providers or to the
runtime's fallback file. Blank variables count as unset.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from reference_runtime import IdentitySpec, env_flag

__all__ = ["kora_identity_provider", "register"]

__version__ = "0.1.0"

ENV_SYSTEM_PROMPT_PATH = "KORA_SYSTEM_PROMPT_PATH"
ENV_SOUL_MD_PATH = "KORA_SOUL_MD_PATH"
ENV_DISABLE = "KORA_DISABLE_IDENTITY_PROVIDER"

_HERE = Path(__file__).resolve().parent
DEFAULT_SYSTEM_PROMPT_PATH = _HERE / "kora_system_prompt.md"
DEFAULT_SOUL_MD_PATH = _HERE / "SOUL.md"

_log = logging.getLogger(__name__)


def _path(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else default


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _log.debug("cannot read %s (%s)", path, exc)
        return ""


def kora_identity_provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec | None:
    """Claim Kora's identity, or decline when disabled or when the prompt is unavailable."""
    if env_flag(ENV_DISABLE):
        return None
    prompt_path = _path(ENV_SYSTEM_PROMPT_PATH, DEFAULT_SYSTEM_PROMPT_PATH)
    prompt = _read(prompt_path)
    if not prompt.strip():
        _log.info("system prompt %s is missing or blank; declining the identity", prompt_path)
        return None
    soul_path = _path(ENV_SOUL_MD_PATH, DEFAULT_SOUL_MD_PATH)
    return IdentitySpec(
        soul_md_content=_read(soul_path),
        system_prompt_content=prompt,
        identity_metadata={
            "agent_name": "Kora",
            "agent_version": __version__,
            "plugin_name": "kora",
            "system_prompt_path": str(prompt_path),
            "soul_md_path": str(soul_path),
        },
    )


def register(ctx: Any) -> None:
    """Register Kora's identity provider."""
    ctx.register_identity_provider(kora_identity_provider)
