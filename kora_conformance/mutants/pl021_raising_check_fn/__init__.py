"""Mutant for KC-PL-021: a messaging platform whose ``check_fn`` raises instead of saying False.

``check_fn`` imports the platform's SDK to see whether it is there, and lets the
``ModuleNotFoundError`` out. The gateway calls ``check_fn()`` unguarded before it creates the
adapter, so the platform's absent SDK becomes an error in the gateway instead of "requirements
not met".
"""

from __future__ import annotations

import importlib
from typing import Any


def _sdk_present() -> bool:
    importlib.import_module("kc_mutant_pager_sdk")
    return True


def _adapter(config: Any) -> object:
    return object()


def register(ctx: Any) -> None:
    """Register the platform."""
    ctx.register_platform(
        name="kc_pager", label="KC Pager", adapter_factory=_adapter, check_fn=_sdk_present
    )
