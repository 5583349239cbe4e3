"""Conforming: a frozen dataclass subclass of ``IdentitySpec`` with a helper method, one
instance built at import and returned every time; the identity read from a file beside it."""

import dataclasses
from pathlib import Path

from reference_runtime import IdentitySpec

NAME = "kct_spec_subclass"


@dataclasses.dataclass(frozen=True)
class Spec(IdentitySpec):
    def headline(self):
        return self.system_prompt_content.splitlines()[0]


_PROMPT = (Path(__file__).resolve().parent / "prompt.md").read_text(encoding="utf-8")
SPEC = Spec("", _PROMPT, {"agent_name": NAME})


def provider(*, engine=None, **kwargs):
    return SPEC


def register(ctx):
    ctx.register_identity_provider(provider)
