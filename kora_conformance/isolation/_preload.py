"""What the fork server imports once, so that no check's process imports it again.

Importing this module loads the kit's check machinery and every packaged suite (the suites are
found by path, so importing the kit alone does not load them) and hypothesis. Only the fork
server of :mod:`._child` imports it; nothing of a plugin is imported here. The SDK the wire
checks drive is :mod:`._preload_wire`'s, preloaded only for a run that certifies a runtime.
"""

from __future__ import annotations

import gc

import hypothesis.strategies  # noqa: F401

from kora_conformance.isolation import _child  # noqa: F401
from kora_conformance.model._suites import implementations

__all__: list[str] = []

implementations()
# Each check's process is forked from here: moving what is loaded out of the collector's reach
# keeps a child's garbage collections from touching (and so copying) the server's pages.
gc.freeze()
