"""Mutant for KC-ID-001 (MUST): the provider returns a lookalike, not an ``IdentitySpec``.

To run on hosts without the runtime's types it vendors its own frozen copy of the spec, and, so
that the host's ``isinstance`` checks pass, makes the copy report ``IdentitySpec`` as its
``__class__``. It is still another type, built without the runtime's validation; KC-ID-001
judges a result by its real type.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any

from reference_runtime import IdentitySpec

NAME = "id001_lookalike_spec"


@dataclasses.dataclass(frozen=True)
class VendoredSpec:
    """A copy of the spec's fields, posing as the runtime's class (the bug)."""

    soul_md_content: str
    system_prompt_content: str
    identity_metadata: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return IdentitySpec


SPEC = VendoredSpec(
    "", f"You are {NAME}.", types.MappingProxyType({"agent_name": NAME, "plugin_name": NAME})
)


def provider(*, engine: Any = None, **kwargs: Any) -> Any:
    """Claim the identity with the lookalike."""
    return SPEC


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
