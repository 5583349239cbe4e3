"""The check catalog: every check's stable ID, level, rule and fix, in one place.

Docs (``docs/checks.md``), failure messages and reports all read this table. IDs are
``KC-<AREA>-<NNN>`` and are never reused or renumbered; a retired check keeps its row.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
from collections.abc import Iterator
from typing import Final, Literal

__all__ = ["CATALOG", "Check", "Level", "Scope", "by_id", "docs_url", "iter_checks"]

Level = Literal["MUST", "SHOULD"]
Scope = Literal["plugin", "runtime"]


@functools.cache
def docs_url() -> str | None:
    """The documentation page of the checks, if the kit's distribution names one.

    That is the ``Checks`` (else ``Documentation``) entry of ``[project.urls]``; each check's
    anchor is appended to it. ``None`` when the installed metadata names neither.
    """
    try:
        entries = importlib.metadata.metadata("kora-conformance").get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    urls = {
        label.strip().lower(): url.strip() for label, _, url in (e.partition(",") for e in entries)
    }
    return urls.get("checks") or urls.get("documentation")


@dataclasses.dataclass(frozen=True)
class Check:
    """One conformance check.

    :param id: the stable identifier, e.g. ``KC-ID-004``.
    :param level: ``MUST`` (a failure breaks certification) or ``SHOULD`` (a warning).
    :param scope: ``plugin`` (the plugin under test, in the reference runtime) or ``runtime``
        (a runtime, driven with the kit's probe plugins).
    :param title: a few words for tables.
    :param rule: what conformance requires, one or two sentences.
    :param fix: what to change when the check fails.
    """

    id: str
    level: Level
    scope: Scope
    title: str
    rule: str
    fix: str

    @property
    def area(self) -> str:
        """The area code: ``PL``, ``ID``, ``DM`` or ``RT``."""
        return self.id.split("-")[1]

    @property
    def anchor(self) -> str:
        """The docs anchor: the lower-cased ID."""
        return self.id.lower()

    @property
    def docs(self) -> str:
        """Where to read about the check: the offline ``explain`` command, and the page, if any."""
        command = f"kora-conformance explain {self.id}"
        url = docs_url()
        return f"{command} (or {url}#{self.anchor})" if url else command


CATALOG: Final[tuple[Check, ...]] = (
    Check(
        "KC-PL-001",
        "MUST",
        "plugin",
        "Discoverable and loadable",
        "The plugin is discovered by its declared route (a directory with plugin.yaml, or an "
        "entry point in either form) and loads without error, into the first runtime of a "
        "process and into a later fresh one alike; register(ctx) is callable.",
        "Give the directory a plugin.yaml and an __init__.py defining register(ctx), or point "
        "the entry point at 'package' or 'package:register'; fix the import error shown.",
    ),
    Check(
        "KC-PL-002",
        "MUST",
        "plugin",
        "Valid manifest",
        "The manifest, where there is one, is a valid YAML mapping (contract 2.2): a name of "
        "letters, digits, '_' and '-', typed fields (a version YAML would not rewrite), no key "
        "given twice, within the size and alias bounds; a directory plugin's name is the key it is "
        "enabled by (an entry-point plugin is keyed by its entry point's name, whatever the "
        "plugin.yaml it ships calls it).",
        'Correct the manifest field named in the message (quote a version: version: "1.10"); '
        "enable the plugin by its manifest name, not its directory name.",
    ),
    Check(
        "KC-PL-003",
        "MUST",
        "plugin",
        "Known hooks only",
        "The plugin registers only hook names the runtime knows, in register(ctx) and later "
        "alike (through the context it kept, from a callback, in a second runtime).",
        "Correct the hook name's spelling, or drop the registration the runtime never calls.",
    ),
    Check(
        "KC-PL-004",
        "SHOULD",
        "plugin",
        "Manifest declares its hooks",
        "The hooks the manifest declares (hooks / provides_hooks) are exactly the hooks the plugin "
        "registers, whenever it registers them: none declared and never registered, none "
        "registered and not declared.",
        "List every registered hook under 'hooks:' in plugin.yaml, and nothing else.",
    ),
    Check(
        "KC-PL-005",
        "MUST",
        "plugin",
        "No network or processes at import",
        "Importing and registering the plugin (and the threads it starts meanwhile, within a "
        "grace period of 1 s) makes no network connection or name look-up, opens no listening "
        "socket and starts no child process.",
        "Defer network access, servers and subprocesses (pip installs included) to hook or daemon "
        "code that runs after start-up; declare dependencies instead of installing them.",
    ),
    Check(
        "KC-PL-006",
        "MUST",
        "plugin",
        "Reload-safe plugin",
        "Re-importing the plugin (importlib.reload) and registering it again into a fresh runtime "
        "gives the same registrations of every kind (the same callables, by qualified name, in "
        "the same numbers), no duplicates and no error, reload after reload.",
        "Keep registration in register(ctx), free of process-wide state that survives a reload.",
    ),
    Check(
        "KC-ID-001",
        "MUST",
        "plugin",
        "Provider return type",
        "Each identity provider returns an IdentitySpec (its real type, a subclass included) or "
        "None, on every call and for every engine; never another type or a lookalike, and it "
        "never raises.",
        "Return IdentitySpec(...) to claim or None to decline; catch your own errors and decline.",
    ),
    Check(
        "KC-ID-002",
        "MUST",
        "plugin",
        "Well-formed spec",
        "The IdentitySpec a provider returns is well formed: str persona, non-blank str system "
        "prompt, read-only metadata with str keys; and it stays so: nothing in it, nested "
        "metadata values included, changes after it is returned.",
        "Build the spec with IdentitySpec(...) and never modify it or its metadata afterwards; "
        "put fresh values in it, not a list or dict the plugin keeps and changes.",
    ),
    Check(
        "KC-ID-003",
        "MUST",
        "plugin",
        "Provider signature",
        "The provider accepts engine= and tolerates unknown extra keyword arguments: with them "
        "it returns what it returns without them.",
        "Declare the provider as def provider(*, engine=None, **kwargs).",
    ),
    Check(
        "KC-ID-004",
        "MUST",
        "plugin",
        "Identity precedence",
        "Alone the plugin wins; first in plugins.enabled it wins over the Kora identity; second it "
        "loses to it; among any mix of companion providers the first valid one in enabled order "
        "wins.",
        "Claim through ctx.register_identity_provider only, and never change other plugins' "
        "behaviour (their environment, the hook order) from your plugin.",
    ),
    Check(
        "KC-ID-005",
        "MUST",
        "plugin",
        "Deterministic identity",
        "Repeated calls to the provider with the same inputs give equal specs: back to back, as "
        "the clock moves, in a fresh runtime and after a re-import.",
        "Build the spec from stable inputs; keep timestamps, dates, counters and values made "
        "at import out of it.",
    ),
    Check(
        "KC-ID-006",
        "MUST",
        "plugin",
        "System prompt on the wire",
        "The plugin's system prompt reaches the wire: every Messages API request of the reference "
        "engine (the first and later ones, of every engine) carries it in 'system'.",
        "Do not rewrite the request's system content from other hooks.",
    ),
    Check(
        "KC-ID-007",
        "SHOULD",
        "plugin",
        "Metadata names the agent",
        "The spec's metadata names the agent (agent_name), and plugin_name, when present, equals "
        "the plugin's name.",
        "Add identity_metadata={'agent_name': ..., 'plugin_name': '<your plugin name>'}.",
    ),
    Check(
        "KC-DM-001",
        "MUST",
        "plugin",
        "Well-formed daemons",
        "Daemon entries are well formed: unique valid names, interval > 0, shutdown timeout > 0, "
        "as registered and after the startups ran.",
        "Give each daemon a unique name and positive interval and timeout; build each spec with "
        "its final values instead of rewriting it later.",
    ),
    Check(
        "KC-DM-002",
        "MUST",
        "plugin",
        "Startup call forms",
        "Each startup accepts the coordinator positionally, by keyword, and not at all, and so do "
        "the tasks it spawns.",
        "Declare startup as def startup(self, coordinator=None) and handle coordinator=None in "
        "everything it starts.",
    ),
    Check(
        "KC-DM-003",
        "MUST",
        "plugin",
        "Singleton reuse",
        "For each listener on both sides, both registries hold the same instance's bound "
        "methods, after a re-import and a reload too.",
        "Create one process-wide listener instance (DaemonListener.instance()) and register its "
        "bound methods on both sides.",
    ),
    Check(
        "KC-DM-004",
        "MUST",
        "plugin",
        "Reload-safe registration",
        "Re-import and re-register leave exactly one entry per name on each side, of the same "
        "shape, without error.",
        "Register through the dual-registry helper, which makes a repeat registration a no-op.",
    ),
    Check(
        "KC-DM-005",
        "MUST",
        "plugin",
        "Lifecycle in virtual time",
        "Under the reference coordinator, on a first and a second run, startup completes, each "
        "periodic task runs once per interval from its driver only (not at t=0, not from a loop "
        "of its own) and survives its own exception, and shutdown finishes within its timeout, "
        "in virtual and in wall time.",
        "Make startup return without running the task, keep periodic callbacks free of sleeps "
        "and loops of their own, make shutdown finish within shutdown_timeout without blocking "
        "the loop, and keep no asyncio object from one run to the next.",
    ),
    Check(
        "KC-DM-006",
        "MUST",
        "plugin",
        "No double scheduling",
        "A periodic task known to both sides fires once per interval, not twice, however it is "
        "wrapped.",
        "Register the task once: as the daemon entry's periodic_task, not also as a listener task.",
    ),
    Check(
        "KC-DM-007",
        "SHOULD",
        "plugin",
        "Honest shapes",
        "A pure-periodic daemon has no listener-side entry; a multi-task listener's entry carries "
        "exactly one (primary) task.",
        "Keep pure-periodic daemons off the listener side; give the entry only the primary task.",
    ),
    Check(
        "KC-RT-001",
        "MUST",
        "runtime",
        "Precedence follows plugins.enabled",
        "Identity precedence follows plugins.enabled order, not discovery or alphabetical order, "
        "directory and entry-point plugins alike; providers after the first valid claim are not "
        "consulted.",
        "Load and dispatch plugins in one pass over the enabled list; never turn it into a set.",
    ),
    Check(
        "KC-RT-002",
        "MUST",
        "runtime",
        "Bad providers skipped",
        "Raising and wrong-type providers, sync or async, are skipped (logged with the plugin's "
        "name) and the next valid one wins.",
        "Wrap each provider: await it, turn exceptions and wrong types into None with a WARNING "
        "naming the plugin.",
    ),
    Check(
        "KC-RT-003",
        "MUST",
        "runtime",
        "Fallback file",
        "With no claim the fallback file is read (argument > KORA_SYSTEM_PROMPT_PATH > default); a "
        "missing or blank file is a clear error, never a fall-through to the next source.",
        "Read the fallback in that order and fail closed with the path in the message.",
    ),
    Check(
        "KC-RT-004",
        "MUST",
        "runtime",
        "Both entry-point forms",
        "Both entry-point forms (module, module:register) load; module:attr names the register "
        "callable, whatever its name.",
        "After ep.load(), use the object itself when it is callable, else its register attribute.",
    ),
    Check(
        "KC-RT-005",
        "MUST",
        "runtime",
        "Failing plugins isolated",
        "A plugin that fails to import or register is isolated: error recorded, its partial "
        "registrations rolled back, the others load.",
        "Stage a plugin's registrations and commit them only when register(ctx) returns.",
    ),
    Check(
        "KC-RT-006",
        "MUST",
        "runtime",
        "Daemon name ownership",
        "A different daemon under a taken name is an error naming both owners; the same daemon "
        "registered again is a no-op.",
        "Compare the entries: ignore an identical repeat, raise on a different owner or callback.",
    ),
    Check(
        "KC-RT-007",
        "MUST",
        "runtime",
        "Coordinator lifecycle",
        "The coordinator starts FIFO, applies the fatal rule, starts periodic drivers after all "
        "startups, cancels drivers before shutdown, and shuts down LIFO within timeouts, giving "
        "each shutdown its whole timeout.",
        "Follow contract section 3.3 step by step.",
    ),
    Check(
        "KC-RT-008",
        "MUST",
        "runtime",
        "Identity hook fired once",
        "The identity hook fires once per engine construction (never per request), with engine=.",
        "Fire pre_agent_identity_set in the engine's constructor, once, passing engine=self.",
    ),
    Check(
        "KC-RT-009",
        "SHOULD",
        "runtime",
        "Identity source reported",
        "The resolved identity reports which plugin (or which file, the one read) supplied it.",
        "Keep the winning plugin's name, or the fallback path, with the resolved identity.",
    ),
    Check(
        "KC-RT-010",
        "SHOULD",
        "runtime",
        "Persona on the wire",
        "The persona (soul_md_content), when non-empty, reaches the wire too, on every request.",
        "Send the persona before the system prompt in the request's system content.",
    ),
    Check(
        "KC-PL-007",
        "MUST",
        "plugin",
        "Callbacks take new keywords",
        "Every hook callback (the identity hook aside: KC-ID-003), middleware callback, tool "
        "handler and memory-provider method whose base-class signature takes **kwargs, called "
        "for real with an unknown extra keyword, accepts it: it neither rejects it nor raises "
        "where the call without it does not, and returns what it returns without it. The "
        "memory-provider methods whose base signature names its keywords (prefetch, "
        "queue_prefetch, sync_turn) accept the keywords the host passes.",
        "Give each callback a **kwargs parameter, e.g. def on_session_start(session_id, "
        "**kwargs) or def handler(args, **kwargs), and ignore the keywords you do not use "
        "(never check them against a list of known ones).",
    ),
    Check(
        "KC-PL-008",
        "SHOULD",
        "plugin",
        "Commands take new keywords",
        "Each slash command handler, called with its raw argument string and an unknown extra "
        "keyword, accepts it and does what it does without it (the host passes only the string "
        "today).",
        "Declare the handler as def handler(raw_args, **kwargs) and ignore the keywords.",
    ),
    Check(
        "KC-PL-009",
        "MUST",
        "plugin",
        "Hook results the host reads",
        "Callbacks of the hooks whose results the host interprets (pre_tool_call, pre_llm_call, "
        "the transform_* hooks, ...), called with the hook's payloads (first and later turns, "
        "any tool, empty texts, ...) and awaited when they return an awaitable, return None or "
        "the documented shape for each.",
        "Return the shape the hook documents: {'action': 'block', 'message': ...} from "
        "pre_tool_call, a string or {'context': ...} from pre_llm_call, a string from "
        "transform_*; return None to leave the value alone.",
    ),
    Check(
        "KC-PL-010",
        "MUST",
        "plugin",
        "Valid tool schemas",
        "Each tool's schema, in the shape the host sends the model, is valid: a JSON-serialisable "
        "mapping whose parameters are a valid JSON Schema of type object, every $ref of which "
        "resolves inside the schema, whose name (when given) is the registered name, and whose "
        "description (when given) is a string.",
        "Pass schema={'name': <the tool's name>, 'description': '...', 'parameters': {'type': "
        "'object', 'properties': {...}}} and check it with jsonschema.",
    ),
    Check(
        "KC-PL-011",
        "MUST",
        "plugin",
        "Tool handlers return JSON",
        "Each tool handler, called with arguments generated from its schema plus task_id= and an "
        "unknown keyword, with the network blocked, returns a strict JSON string (no NaN or "
        "Infinity) on every call, a second one with the same arguments included (awaitable "
        "exactly when registered with is_async=True), and never raises. Judged are the tools "
        "the host would offer (the tool's requires_env set, to placeholders where unset, and "
        "its check_fn true); no time limit is set on a call: one still running at the kit's "
        "bound is not judged, and the check says so.",
        "Catch errors in the handler and return them as JSON (json.dumps({'error': ...})); "
        "return json.dumps(...), never a dict, also from a cache; keep NaN out of the result; "
        "pass is_async=True for an async handler.",
    ),
    Check(
        "KC-PL-012",
        "MUST",
        "plugin",
        "No name collisions",
        "No tool, slash command or CLI command the plugin registers takes a name the host uses "
        "itself or one already held (by a plugin it requires, by the same plugin in another "
        "toolset, or by the same plugin earlier in the same load with other code), unless it is "
        "a tool override the contract allows (override=True with the tools.override "
        "capability).",
        "Rename the tool or command, e.g. prefix it with the plugin's name; override a tool "
        "only with override=True and capabilities: [tools.override].",
    ),
    Check(
        "KC-PL-013",
        "MUST",
        "plugin",
        "Manifest declares what it provides",
        "Every tool the plugin registers is listed in provides_tools, and every provides_* list "
        "the manifest has (provides_tools, provides_commands, ...; hooks: KC-PL-004) names "
        "exactly what the plugin registers of that kind, in register() or later (from its "
        "hooks, commands or tools).",
        "List each registered tool under provides_tools in plugin.yaml (and each command under "
        "provides_commands, ...), and drop names the plugin does not register.",
    ),
    Check(
        "KC-PL-014",
        "SHOULD",
        "plugin",
        "Manifest declares its environment",
        "The manifest's requires_env lists every variable the plugin needs: those its "
        "registrations require (tool requires_env, platform required_env) and those its code "
        "reads with os.environ[...] while unset (at import, in register() or when called); each "
        "variable it lists is needed or read by the plugin.",
        "List those variables under requires_env in plugin.yaml (or read optional ones with "
        "os.environ.get), and drop the ones the plugin never reads.",
    ),
    Check(
        "KC-PL-015",
        "MUST",
        "plugin",
        "Satisfiable requires_hermes",
        "requires_hermes, when given, is a string of comma-separated clauses (>=, >, <=, <, ==, "
        "!= and a version) that parses and that some host version satisfies.",
        'Write it as requires_hermes: ">=0.19,<0.30" (quoted), with bounds that overlap.',
    ),
    Check(
        "KC-PL-016",
        "MUST",
        "plugin",
        "Well-formed manifest v2 fields",
        "The manifest v2 fields, when given, are well formed: manifest_version 1 or 2, "
        "api_version an integer >= 1, requires_plugins plugin IDs with parseable version "
        "ranges, python_dependencies PEP 508 requirements, config_schema entries with a known "
        "type and a default of that type, and no entry key misspelt (version for version_range, "
        "defualt for default).",
        "Correct the field named in the message (see the manifest v2 rules in "
        "docs/doctor-and-validate.md).",
    ),
    Check(
        "KC-PL-017",
        "SHOULD",
        "plugin",
        "Bounded python_dependencies",
        "Each python_dependencies requirement has an upper bound (<, <=, ==, ~= or ===; a "
        "version control reference names a revision), so a new major release of a dependency "
        "cannot break the installed plugin.",
        "Add an upper bound, e.g. requests>=2.31,<3, or a revision, e.g. pkg @ "
        "git+https://host/pkg.git@v1.2.",
    ),
    Check(
        "KC-PL-018",
        "MUST",
        "plugin",
        "Registers something",
        "A plugin that loads leaves at least one registration (a tool, hook, command, provider, "
        "platform, identity provider, daemon, ...) once register(ctx) returns: a plugin that "
        "registers nothing has nothing a host would run, and nothing to certify.",
        "Register what the plugin provides inside register(ctx); if it goes inactive without "
        "a host module, a setting or a secret, declare that (requires_env, the dependency) "
        "instead of returning quietly.",
    ),
    Check(
        "KC-PL-019",
        "MUST",
        "plugin",
        "No context error swallowed",
        "No error the context raises to the plugin inside register(ctx) (a registration "
        "refused by its rule, arguments its signature does not take, a member the context "
        "lacks read directly) is caught by the plugin and passed over: register either "
        "registers what it meant to or fails.",
        "Correct the call the message names (its rule says how), or let the error propagate; "
        "probe for an optional member with hasattr(ctx, ...) instead of catching the error.",
    ),
    Check(
        "KC-PL-020",
        "SHOULD",
        "plugin",
        "Known manifest keys",
        "Every top-level key of the manifest is one the contract or upstream Hermes defines "
        "(name, version, description, author, hooks, the upstream v1 and v2 fields, the legacy "
        "keys upstream still accepts, and any provides_*): an unknown key is kept but never "
        "interpreted.",
        "Correct the key's spelling (requires_env, not require_env), or drop it; keep data of "
        "the plugin's own under its configuration, not as a manifest key.",
    ),
    Check(
        "KC-PL-021",
        "MUST",
        "plugin",
        "Providers and platforms as the host reads them",
        "Each provider it registers is an instance of the host's base class for its kind where "
        "the host checks one (upstream ignores any other), is named by a non-empty string where "
        "the host keys providers by name, and its is_available() (a platform's check_fn()), "
        "called with the network blocked, returns without raising and without a network "
        "attempt.",
        "Subclass the host's base class the message names (agent.web_search_provider."
        "WebSearchProvider, ...) and give the provider a non-empty name; make is_available() "
        "and check_fn() local checks (an environment variable set, a module importable) that "
        "return False rather than raise or reach a service.",
    ),
    Check(
        "KC-PL-022",
        "MUST",
        "plugin",
        "Skills the host can serve",
        "Each skill it registers names a SKILL.md (the path, or a directory's SKILL.md) that, "
        "once register(ctx) has returned, reads as UTF-8 text and is not blank: the host reads "
        "the file each time the model loads the skill.",
        "Ship the SKILL.md in the package (package data) and register the path of that file; "
        "save it as UTF-8 and give it the skill's instructions.",
    ),
    Check(
        "KC-RT-011",
        "MUST",
        "runtime",
        "System prompt on the wire",
        "Every Messages API request of the runtime's engine (first and later, of every engine, "
        "for a plugin's identity and for the fallback file's) carries the system prompt resolved "
        "at construction in its system content, with no blank text block (1.4).",
        "Build the request's system content from the identity resolved at construction on every "
        "request: the persona when non-empty, then the system prompt.",
    ),
    Check(
        "KC-RT-012",
        "MUST",
        "runtime",
        "Identity spec type",
        "The runtime's IdentitySpec, as plugins import it (agent.identity_spec), follows 1.1: "
        "built positionally and by keyword alike, metadata defaulting to an empty mapping, "
        "deeply read-only (fields, metadata, the caller's dict copied), and a non-str persona "
        "or prompt, a blank prompt or a non-str metadata key refused with an error naming the "
        "field.",
        "Make IdentitySpec a frozen dataclass that validates in __post_init__ and keeps a "
        "read-only copy of the metadata (types.MappingProxyType over a dict copy).",
    ),
)

_BY_ID: Final = {check.id: check for check in CATALOG}


def by_id(check_id: str) -> Check:
    """The check with ID ``check_id``.

    :raises KeyError: no such check; the message lists the known IDs.
    """
    try:
        return _BY_ID[check_id]
    except KeyError:
        msg = f"unknown check ID {check_id!r}; known IDs: {', '.join(_BY_ID)}"
        raise KeyError(msg) from None


def iter_checks(scope: Scope | None = None) -> Iterator[Check]:
    """The catalog's checks, optionally only those of ``scope``, in catalog order."""
    return (check for check in CATALOG if scope is None or check.scope == scope)
