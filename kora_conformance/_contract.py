"""The kit's own copy of the contract's names and rules (``docs/contract.md``).

Deliberately independent of :mod:`reference_runtime`: the runtime checks certify runtimes that
are not the reference (a fork's, upstream Hermes), and a plugin check must not pass because the
runtime it runs on shares a mistake with it. So what the contract fixes — the entry-point
groups, the environment variables, the hook's name, the model the wire checks expect, the name
rules — is written here once, from the contract's text, and the kit reads it from here. Where
the reference runtime holds the same value, ``tests/test_contract_constants.py`` holds the two
equal, so a change to the contract is made in both on purpose, never in one by accident.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "DAEMON_NAME",
    "ENTRY_POINT_GROUPS",
    "ENV_DISABLE_IDENTITY_PROVIDER",
    "ENV_SYSTEM_PROMPT_PATH",
    "IDENTITY_HOOK",
    "MODEL",
    "PRIMARY_ENTRY_POINT_GROUP",
]

#: Entry-point groups plugins are discovered in (contract 2.1), in the order they are read.
ENTRY_POINT_GROUPS: Final = ("hermes_agent.plugins", "kora.plugins")
#: The upstream group: the one a published Hermes plugin declares, and the kit's probes use.
PRIMARY_ENTRY_POINT_GROUP: Final = ENTRY_POINT_GROUPS[0]
#: The fallback system prompt's path, between the argument and the default (contract 1.3).
ENV_SYSTEM_PROMPT_PATH: Final = "KORA_SYSTEM_PROMPT_PATH"
#: Set true, the Kora identity plugin declines to claim (contract 1.2).
ENV_DISABLE_IDENTITY_PROVIDER: Final = "KORA_DISABLE_IDENTITY_PROVIDER"
#: The identity hook (contract 1.2).
IDENTITY_HOOK: Final = "pre_agent_identity_set"
#: The model the reference engine asks for; the faked wire answers as it.
MODEL: Final = "claude-sonnet-4-6"
#: A daemon's (and a periodic task's) name (contract 3.1).
DAEMON_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")
