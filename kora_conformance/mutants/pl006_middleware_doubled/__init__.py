"""Mutant for KC-PL-006 (MUST): middleware doubles after ``importlib.reload``.

Middleware is collected by a decorator into a list in a submodule (``_registry``). A reload
re-executes this module and collects a new function next to the old one, so the next
``register`` hands the runtime the middleware twice and every tool request is handled twice.
No hook or identity provider is involved; KC-PL-006 compares every kind of registration.
"""

from __future__ import annotations

from typing import Any

from ._registry import MIDDLEWARE, middleware

NAME = "pl006_middleware_doubled"


@middleware("tool_request")
def audit_tool_request(request: Any = None, **kwargs: Any) -> None:
    """Look at a tool request and let it through."""


def register(ctx: Any) -> None:
    """Register every collected middleware."""
    for kind, function in MIDDLEWARE:
        ctx.register_middleware(kind, function)
