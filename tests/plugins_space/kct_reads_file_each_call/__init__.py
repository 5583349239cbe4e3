"""Conforming: reads its prompt at every call (as the bundled Kora plugin does), keeps a
module-level cache keyed by the path, logs with a timestamp (not in the spec), and declines for
an engine that asks for no prompt."""

import logging
import time
from pathlib import Path

from reference_runtime import IdentitySpec

NAME = "kct_reads_file_each_call"
_PATH = Path(__file__).resolve().parent / "prompt.md"
_CACHE = {}
_log = logging.getLogger(__name__)


def provider(*, engine=None, **kwargs):
    if getattr(engine, "wants_no_prompt", False):
        return None
    text = _CACHE.setdefault(str(_PATH), _PATH.read_text(encoding="utf-8"))
    _log.debug("identity built at %s", time.time())
    return IdentitySpec("", text, {"agent_name": NAME, "plugin_name": NAME})


def register(ctx):
    ctx.register_identity_provider(provider)
