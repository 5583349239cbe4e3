"""Mutant for KC-PL-002 (MUST): the manifest's ``version`` is a YAML float.

``plugin.yaml`` says ``version: 1.10`` unquoted. YAML reads that as the float 1.1, so the version
the author wrote is already lost when the manifest is parsed; the runtime refuses it (quote it:
``version: "1.10"``). The plugin therefore also fails KC-PL-001 (it cannot load); KC-PL-002 names
the field, the line and the fix.
"""

from __future__ import annotations

from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl002_float_version"


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """A valid provider."""
    return IdentitySpec("", f"You are {NAME}.", {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
