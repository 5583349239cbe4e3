"""The probe plugins the runtime checks load into the runtime under certification.

Each subdirectory is a plugin (``plugin.yaml`` and ``__init__.py``); ``_entry_points`` holds the
packages installed as entry-point plugins. The probes record what the runtime did to them in the
:mod:`~kora_conformance.probes.journal`, and share their fixed facts through
:mod:`~kora_conformance.probes.common`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["PROBES_DIR"]

#: The directory of the probe plugins: a plugin search root.
PROBES_DIR: Final = Path(__file__).resolve().parent
