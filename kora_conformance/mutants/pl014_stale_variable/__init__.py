"""Mutant for KC-PL-014 (SHOULD): ``requires_env`` lists a variable nothing reads any more.

The digest used to be keyed with ``KCT_DIGEST_SECRET``; the code moved to an unkeyed hash and
only a comment still names the variable. The host keeps asking users for a secret the plugin
never reads. A SHOULD finding: KC-PL-014 warns.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SCHEMA = {
    "name": "digest_make",
    "description": "A digest of a text.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def digest_make(args: dict[str, Any], **kwargs: Any) -> str:
    """The SHA-256 of the text."""
    # Until 0.3 this was an HMAC keyed with KCT_DIGEST_SECRET.
    text = str(args.get("text", ""))
    return json.dumps({"sha256": hashlib.sha256(text.encode()).hexdigest()})


def register(ctx: Any) -> None:
    """Register the tool."""
    ctx.register_tool("digest_make", "digest", SCHEMA, digest_make)
