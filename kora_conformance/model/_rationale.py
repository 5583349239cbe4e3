"""Why each check exists: the failure in the field it guards against, in a sentence or two.

``kora-conformance explain`` and ``docs/checks.md`` show it beside the rule and the fix; a test
keeps one entry per catalog ID.
"""

from __future__ import annotations

from typing import Final

__all__ = ["RATIONALE"]

RATIONALE: Final[dict[str, str]] = {
    "KC-PL-001": "A plugin the host cannot find or import does nothing at all, and the host only "
    "logs it: operators discover the gap when the feature is missing in production.",
    "KC-PL-002": "The manifest is what the host reads before importing anything (name, version, "
    "declared hooks); a malformed one makes the plugin unloadable or misidentified.",
    "KC-PL-003": "A misspelt hook name is accepted with a warning and then never fires, so the "
    "plugin silently loses the behaviour it registered.",
    "KC-PL-004": "Catalogs and the host's doctor read the declared hooks without importing the "
    "plugin; declarations that drift from what is registered mislead both.",
    "KC-PL-005": "Plugins are imported when the agent starts, often offline or behind a proxy; "
    "network calls, servers or pip installs at import slow or break start-up and leak data "
    "before any consent.",
    "KC-PL-006": "Hosts re-import plugins (reload, test runners, xdist workers); a plugin that "
    "registers twice or fails on reload breaks every process that does.",
    "KC-ID-001": "The identity hook takes the first non-None answer; a provider that returns "
    "another type or raises makes the runtime skip it or, in a naive host, crash.",
    "KC-ID-002": "The spec becomes the system prompt; a blank prompt or mutable metadata gives "
    "the model no identity, or one that changes behind the runtime's back.",
    "KC-ID-003": "The host passes engine= and adds keywords over time; a provider without "
    "**kwargs breaks on the next host release.",
    "KC-ID-004": "Several identity plugins may be enabled at once; the first in plugins.enabled "
    "must win, or operators cannot choose who the agent is.",
    "KC-ID-005": "The identity is resolved at each engine construction; a provider that answers "
    "differently each time gives the same agent a different persona per session.",
    "KC-ID-006": "What matters is what the model receives: a plugin whose hooks rewrite the "
    "request can drop the system prompt even though resolution looked right.",
    "KC-ID-007": "Logs, reports and multi-agent setups tell agents apart by agent_name and "
    "plugin_name; without them, a persona cannot be traced to its plugin.",
    "KC-DM-001": "A zero interval spins the scheduler and a duplicate name collides with "
    "another daemon; both surface only once the daemon runs in production.",
    "KC-DM-002": "The listener registry and the coordinator call startup differently "
    "(positionally, by keyword, or without the coordinator); each form must work.",
    "KC-DM-003": "Both registries must drive one instance; two instances split the state set at "
    "startup from the state seen at shutdown.",
    "KC-DM-004": "A re-import must not leave a second entry or raise a duplicate error, which "
    "the fork once hid by swallowing every duplicate, real clashes included.",
    "KC-DM-005": "A daemon that hangs at shutdown, fires at t=0 or dies on its own exception "
    "stalls or silently stops the agent's background work.",
    "KC-DM-006": "A task registered on both sides can be driven by both schedulers, so it runs "
    "twice per interval: double polls, double writes, double bills.",
    "KC-DM-007": "The registry's shape tells operators what a daemon is; a pure-periodic daemon "
    "that also claims a listener, or an entry with several tasks, misreports it.",
    "KC-RT-001": "The fork's loader followed discovery order, so which identity won depended on "
    "directory listing order instead of the operator's plugins.enabled.",
    "KC-RT-002": "One broken provider must not take the agent's identity down with it; the next "
    "valid provider answers and the broken one is named in the log.",
    "KC-RT-003": "With no identity plugin the agent falls back to a prompt file; a missing file "
    "must be a clear error, not an agent with an empty system prompt.",
    "KC-RT-004": "Published plugins use both entry-point forms; a loader that accepts only one "
    "registers nothing for the others (pip-installed Marvin did exactly that).",
    "KC-RT-005": "One failing plugin must not stop the others or leave half of its "
    "registrations behind.",
    "KC-RT-006": "Re-registration must be idempotent while real name clashes are reported, not "
    "both swallowed (as the fork did) or both raised.",
    "KC-RT-007": "Daemons depend on start and stop order; starting drivers early or stopping "
    "FIFO lets a task run against a shut-down dependency.",
    "KC-RT-008": "Identity providers may have side effects and expect engine=; firing the hook "
    "twice, or without the engine, breaks them.",
    "KC-RT-009": "Operators need to know who supplied the identity (which plugin or which file) "
    "to debug the agent's persona.",
    "KC-RT-010": "The persona is part of the identity; a runtime that drops it sends the model "
    "only half of who it is.",
    "KC-PL-007": "The host adds keywords over time: tool handlers written as (args) crashed when "
    "it began passing task_id=, and a memory provider broke on a new session_id keyword.",
    "KC-PL-008": "Slash commands get only the raw argument string today; a handler that also "
    "takes **kwargs keeps working when the host starts passing context with it.",
    "KC-PL-009": "The host reads these hooks' results and silently ignores any other shape, so a "
    "block that is not a directive, or a transform that returns a dict, does nothing at all.",
    "KC-PL-010": "The schema goes to the model as the tool's function definition; an invalid one "
    "makes the provider reject the whole request, or the model call the tool wrongly.",
    "KC-PL-011": "The model gets whatever the handler returns; a handler that raises, returns a "
    "dict or an unawaited coroutine breaks the turn instead of reporting an error as JSON.",
    "KC-PL-012": "Tool and command names are one namespace per host; silent overwrites between "
    "plugins, and names refused because the host owns them, lose a plugin's feature unnoticed.",
    "KC-PL-013": "The catalog's admission gate and the host's doctor read provides_* without "
    "importing the plugin; undeclared or phantom tools mislead operators and fail validate.",
    "KC-PL-014": "Hosts prompt for and check the declared environment before enabling a plugin; "
    "an undeclared variable surfaces only as a tool that is never offered.",
    "KC-PL-015": "requires_hermes is the one manifest field that blocks a load; one that does not "
    "parse is ignored by the host, and one no version satisfies makes the plugin unloadable.",
    "KC-PL-016": "The host only warns about malformed v2 fields and then ignores them, so a wrong "
    "config_schema default or dependency range silently does not do what the author wrote.",
    "KC-PL-017": "Dependencies are validated but never installed by the host; an unbounded one "
    "lets the next major release of a library break every installation of the plugin.",
    "KC-PL-018": "Every other check examines what a plugin registered: with nothing registered, "
    "each one passes or skips vacuously, and CONFORMANT would certify nothing. Real plugins "
    "end up there by going inactive when a host module or a setting is missing, while a real "
    "host loads them with their tools.",
    "KC-PL-019": "A plugin that catches the AttributeError or ValueError of a context call and "
    "carries on loads with part of itself missing: the checks then judge the part that is "
    "left, and the verdict says nothing about the part a real host would run. The error names "
    "the call, so the breach is named too.",
    "KC-PL-020": "Hosts warn about unknown manifest keys and load the plugin anyway, so a "
    "misspelt requires_env or provides_tools is silently a key nobody reads: the plugin then "
    "declares less than its author meant.",
    "KC-PL-021": "A provider that is not of the host's class is dropped with a log line, so the "
    "backend the plugin exists for never serves; an is_available() that asks its service stalls "
    "every agent start offline, and a check_fn() that raises breaks the gateway's start.",
    "KC-PL-022": "A skill's file is read only when the model asks for it, so a SKILL.md left "
    "out of the wheel, saved in another encoding or left empty passes every load and fails the "
    "first user who needs it.",
    "KC-RT-011": "The system prompt is what the agent is; an engine that resolves it and then "
    "sends it only once, or sends a blank block the API refuses, runs the model as someone else "
    "or not at all.",
    "KC-RT-012": "Plugins build the spec with the runtime's class: one that accepts a blank "
    "prompt or lets its metadata be changed after the provider returned it breaks what every "
    "identity check of a plugin assumes.",
}
