"""Mutant for KC-ID-005 (MUST): the spec changes when the plugin is imported again.

An "instance id" is minted once, at import, and put in the metadata. Every call in one import
gives equal specs; a re-import (``importlib.reload``, a new worker process) gives another
identity. KC-ID-005 compares the spec after a re-import of the plugin's modules.
"""

from __future__ import annotations

import uuid
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id005_minted_at_import"

INSTANCE = uuid.uuid4().hex


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity, stamped with this import's id (the bug)."""
    metadata = {"agent_name": NAME, "plugin_name": NAME, "instance": INSTANCE}
    return IdentitySpec("", f"You are {NAME}.", metadata)


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
