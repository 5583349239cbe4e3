"""Mutant for KC-PL-005 (MUST): an HTTP request at import that is allowed to fail the import.

It fetches its configuration from ``http://127.0.0.1:9/config.json`` at import, without catching
errors. Under the kit the connection is blocked and recorded, the import raises, and the plugin
does not load: KC-PL-005 reports the attempt and KC-PL-001 the failed load.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from reference_runtime import IdentitySpec

NAME = "pl005_fetch_config"

CONFIG_URL = "http://127.0.0.1:9/config.json"

with urllib.request.urlopen(CONFIG_URL, timeout=0.1) as _response:
    _CONFIG: dict[str, Any] = json.load(_response)


def provider(*, engine: Any = None, **kwargs: Any) -> IdentitySpec:
    """Claim the identity fetched at import."""
    prompt = str(_CONFIG.get("system_prompt", f"You are {NAME}."))
    return IdentitySpec("", prompt, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx: Any) -> None:
    """Register the provider."""
    ctx.register_identity_provider(provider)
