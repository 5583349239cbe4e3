"""Bundled-directory entry for Marvin: the same code as the installed ``marvin`` package.

The package lives in ``src/marvin`` (the layout pip installs). Loaded as a directory plugin, this
shim makes that source importable and re-exports its ``register``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SRC = str(Path(__file__).resolve().parent / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)

from marvin import marvin_identity_provider, register  # noqa: E402

__all__ = ["marvin_identity_provider", "register"]
