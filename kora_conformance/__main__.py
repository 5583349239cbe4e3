"""``python -m kora_conformance``: the ``kora-conformance`` command."""

from __future__ import annotations

import sys

from kora_conformance._cli import main

sys.exit(main())
