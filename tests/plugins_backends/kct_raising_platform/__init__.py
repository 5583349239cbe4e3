"""A messaging platform whose ``check_fn`` raises when its SDK is absent, rather than False."""

from __future__ import annotations

import importlib
from typing import Any


def _sdk_present() -> bool:
    importlib.import_module("kct_pager_sdk_that_is_not_installed")
    return True


def _adapter(config: Any) -> object:
    return object()


def register(ctx: Any) -> None:
    ctx.register_platform(
        name="kct_pager", label="KCT Pager", adapter_factory=_adapter, check_fn=_sdk_present
    )
