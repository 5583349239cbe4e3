"""What the wire checks drive, for the fork server to import once: the Anthropic SDK and the
HTTP mocking (respx) it is answered through.

Importing the SDK takes seconds, and the first check of a run waits for the fork server's
imports. A run that certifies a runtime (whose wire checks run on every target) preloads this
module; a run of plugins alone does not, and a plugin's wire check (KC-ID-006, for an identity
provider) imports the SDK in its own process.
"""

from __future__ import annotations

import anthropic  # noqa: F401
import respx  # noqa: F401

__all__: list[str] = []
