"""Test what your plugin does, in your own test suite, against the reference runtime.

The kit's pytest plugin provides fixtures in every test run (see ``docs/testing-your-plugin.md``):

- ``kora_runtime``: a :class:`PluginHost`, a fresh reference runtime isolated for one test;
- ``kora_plugin``: the same host with your plugin enabled (found as ``--kora-conformance``
  finds it: ``--kora-plugin``, else the rootdir), loaded when first used;
- ``kora_companions``: its :class:`Companions`, other plugins placed around yours in
  ``plugins.enabled`` without writing them to disk.

The host talks to the runtime as a host does: hooks are called with keywords and their results
combined by the upstream rule (:data:`HOOK_RULES`), the engine's request is captured off the
wire with respx, daemons run in virtual time. When the plugin under test misbehaves where the
host would log and carry on (a hook that raises, a provider returning the wrong type), the host
raises :class:`PluginMisbehaved` so that the author's test fails with the host's words.

Everything a test changes in the process is undone afterwards: see :func:`isolation`.

Tools and commands are looked up through a small query interface that a runtime's plugin
context implements (:class:`RecordsTools`, :class:`RecordsCommands`,
:class:`RecordsCliCommands`); a runtime whose context records none of them makes the helper
raise :class:`UnsupportedByRuntime`.
"""

from __future__ import annotations

from kora_conformance.testing._companions import Companions
from kora_conformance.testing._host import TEST_API_KEY, PluginHost
from kora_conformance.testing._isolation import isolation, resolve_plugin
from kora_conformance.testing._queries import (
    CliParts,
    PluginMisbehaved,
    PluginNotLoaded,
    RecordsCliCommands,
    RecordsCommands,
    RecordsTools,
    UnsupportedByRuntime,
)
from kora_conformance.testing._records import DaemonRun, WireCapture
from kora_conformance.testing._rules import (
    HOOK_RULES,
    PRE_LLM_CALL_CAP,
    HookOutcome,
    HookRule,
    HostWarning,
    combine_results,
)

__all__ = [
    "HOOK_RULES",
    "PRE_LLM_CALL_CAP",
    "TEST_API_KEY",
    "CliParts",
    "Companions",
    "DaemonRun",
    "HookOutcome",
    "HookRule",
    "HostWarning",
    "PluginHost",
    "PluginMisbehaved",
    "PluginNotLoaded",
    "RecordsCliCommands",
    "RecordsCommands",
    "RecordsTools",
    "UnsupportedByRuntime",
    "WireCapture",
    "combine_results",
    "isolation",
    "resolve_plugin",
]

# Tracebacks and reprs show the public path, not the private module a class is defined in.
for _name in __all__:
    _obj = globals()[_name]
    # Generic aliases (CliParts) pass isinstance(_, type) on Python 3.10; they keep theirs.
    if isinstance(_obj, type) and getattr(_obj, "__origin__", None) is None:
        _obj.__module__ = __name__
del _name, _obj
