"""The shipped broken plugins ("mutants") and the check each one is proven to break.

Every MUST check of the contract has at least one mutant: the project's tests certify each mutant
and assert that its check fails (SHOULD mutants: warns) and, for MUST checks, that the verdict is
NOT CONFORMANT. A mutant is a directory plugin under ``kora_conformance/mutants/<name>/``; its
directory name equals its manifest name (the key it is enabled by), or, for a project declaring
an entry point, the entry point's name. Each mutant's module
docstring says how it breaks its check.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Final

from kora_conformance.model._catalog import by_id

__all__ = ["MUTANTS", "MUTANTS_DIR", "RUNTIME_MUTANTS", "Mutant", "RuntimeMutant", "mutant_dir"]

#: The directory holding the mutants (a plugin search root).
MUTANTS_DIR: Final = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Mutant:
    """A broken plugin.

    :param name: its directory name under :data:`MUTANTS_DIR` (the key it is enabled by).
    :param check_id: the catalog check it breaks.
    :param description: the bug, in a few words.
    :param also_breaks: other checks it cannot help breaking (a plugin that does not load fails
        KC-PL-001 too); every other check passes or is skipped.
    """

    name: str
    check_id: str
    description: str
    also_breaks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for check_id in (self.check_id, *self.also_breaks):
            by_id(check_id)  # an unknown ID is a bug in this table

    @property
    def path(self) -> Path:
        """The mutant's plugin directory."""
        return mutant_dir(self.name)


MUTANTS: Final[tuple[Mutant, ...]] = (
    Mutant("pl001_no_register", "KC-PL-001", "the entry function is named setup, not register"),
    Mutant("pl001_import_error", "KC-PL-001", "import reads a data file the package omits"),
    Mutant(
        "pl001_second_runtime",
        "KC-PL-001",
        "register raises when called again in the process, so a second runtime cannot load it",
    ),
    Mutant(
        "pl002_float_version",
        "KC-PL-002",
        "manifest says version: 1.10 unquoted, a YAML float (so it cannot load either)",
        also_breaks=("KC-PL-001",),
    ),
    Mutant(
        "pl002_repeated_key",
        "KC-PL-002",
        "manifest gives version twice (0.1.0, then 0.2.0), so it cannot load either",
        also_breaks=("KC-PL-001",),
    ),
    Mutant("pl003_typo_hook", "KC-PL-003", "registers the misspelt hook on_sesion_start"),
    Mutant(
        "pl003_late_hook",
        "KC-PL-003",
        "registers the misspelt on_sesion_end later, from its first on_session_start call",
    ),
    Mutant("pl004_undeclared_hook", "KC-PL-004", "manifest omits a registered hook (SHOULD)"),
    Mutant(
        "pl004_declared_not_registered",
        "KC-PL-004",
        "provides_hooks lists post_llm_call, which it no longer registers (SHOULD)",
    ),
    Mutant("pl005_telemetry_ping", "KC-PL-005", "opens a socket at import, swallowing errors"),
    Mutant(
        "pl005_fetch_config",
        "KC-PL-005",
        "fetches config over HTTP at import, unguarded (the blocked import fails the load)",
        also_breaks=("KC-PL-001",),
    ),
    Mutant("pl005_udp_beacon", "KC-PL-005", "sends a UDP datagram at import, swallowing errors"),
    Mutant("pl005_pip_at_import", "KC-PL-005", "runs pip install in a child process at import"),
    Mutant("pl005_raw_c_socket", "KC-PL-005", "connects through _socket at import, around socket"),
    Mutant(
        "pl006_reload_duplicates",
        "KC-PL-006",
        "a decorator registry in a submodule doubles the providers after a reload",
    ),
    Mutant(
        "pl006_middleware_doubled",
        "KC-PL-006",
        "a decorator registry in a submodule doubles the middleware after a reload",
    ),
    Mutant("id001_returns_str", "KC-ID-001", "the provider returns the prompt as a str"),
    Mutant(
        "id001_model_lookup",
        "KC-ID-001",
        "looks its prompt up by the engine's model: KeyError for any other model",
    ),
    Mutant(
        "id001_lookalike_spec",
        "KC-ID-001",
        "returns a vendored frozen lookalike whose __class__ says IdentitySpec",
    ),
    Mutant(
        "id002_mutable_metadata",
        "KC-ID-002",
        "swaps the spec's metadata for a mutable dict with object.__setattr__",
    ),
    Mutant(
        "id002_live_view",
        "KC-ID-002",
        "the metadata is a read-only view over a module dict the provider updates each call",
    ),
    Mutant(
        "id002_shared_history",
        "KC-ID-002",
        "the metadata holds a module-level list the provider appends to (so a re-import, which "
        "starts the list afresh, changes the spec too)",
        also_breaks=("KC-ID-005",),
    ),
    Mutant("id003_no_kwargs", "KC-ID-003", "the provider has no **kwargs"),
    Mutant(
        "id003_declines_extras",
        "KC-ID-003",
        "takes **kwargs but returns None whenever any arrive",
    ),
    Mutant(
        "id004_silences_kora",
        "KC-ID-004",
        "sets KORA_DISABLE_IDENTITY_PROVIDER in register to win even when second",
    ),
    Mutant(
        "id004_defers_to_kora",
        "KC-ID-004",
        "declines whenever hermes_plugins.kora is loaded, so it loses even when first",
    ),
    Mutant("id005_counter_metadata", "KC-ID-005", "metadata carries a call counter"),
    Mutant("id005_dated_prompt", "KC-ID-005", "the system prompt carries today's date"),
    Mutant("id005_minted_at_import", "KC-ID-005", "the metadata carries an id minted at import"),
    Mutant(
        "id006_overrides_system",
        "KC-ID-006",
        "a pre_api_request_mutable hook replaces the request's system content",
    ),
    Mutant(
        "id006_compacts_history",
        "KC-ID-006",
        "a request hook replaces the system content once the conversation has history",
    ),
    Mutant("id007_no_agent_name", "KC-ID-007", "metadata lacks agent_name (SHOULD)"),
    Mutant(
        "id007_module_name",
        "KC-ID-007",
        "plugin_name is the module's __name__ (hermes_plugins.<key>), not the key (SHOULD)",
    ),
    Mutant(
        "dm001_zero_interval",
        "KC-DM-001",
        "writes interval_seconds=0 into a validated spec with object.__setattr__",
    ),
    Mutant(
        "dm001_interval_from_startup",
        "KC-DM-001",
        "the startup writes interval_seconds=0 into its registered spec (the run spins too)",
        also_breaks=("KC-DM-005",),
    ),
    Mutant(
        "dm002_required_coordinator",
        "KC-DM-002",
        "startup(coordinator) without a default, registered with register_background_daemon",
    ),
    Mutant(
        "dm002_bare_background",
        "KC-DM-002",
        "startup() bare returns, but the task it spawns needs the coordinator and dies",
    ),
    Mutant(
        "dm003_two_instances",
        "KC-DM-003",
        "the listener factory builds a new instance; the daemon side holds the singleton's",
    ),
    Mutant(
        "dm003_instance_per_register",
        "KC-DM-003",
        "register() builds the instance: a re-import leaves the two sides on two instances",
    ),
    Mutant(
        "dm004_counter_name",
        "KC-DM-004",
        "the daemon name takes a number from a counter that survives reloads",
    ),
    Mutant(
        "dm004_listener_backoff",
        "KC-DM-004",
        "a listener-side interval from a reload-surviving backoff: same names, new interval",
    ),
    Mutant("dm005_hung_shutdown", "KC-DM-005", "shutdown awaits an event nobody sets"),
    Mutant("dm005_blocking_poll", "KC-DM-005", "a periodic callback blocks in time.sleep"),
    Mutant("dm005_warm_start", "KC-DM-005", "the startup runs the periodic task once at t=0"),
    Mutant(
        "dm005_sleepy_shutdown",
        "KC-DM-005",
        "an async shutdown blocks the loop in time.sleep for 4x its timeout (wall time only)",
    ),
    Mutant(
        "dm005_stale_event",
        "KC-DM-005",
        "an asyncio.Event kept from the first run fails the second run's shutdown",
    ),
    Mutant(
        "dm006_wrapped_twice",
        "KC-DM-006",
        "the primary task again on the listener side, wrapped in a lambda, so it fires twice",
    ),
    Mutant(
        "dm006_named_wrapper",
        "KC-DM-006",
        "the primary task again on the listener side, awaited by a named wrapper",
    ),
    Mutant(
        "dm007_pure_on_listener_side",
        "KC-DM-007",
        "a pure-periodic daemon also registered on the listener side (SHOULD)",
    ),
    Mutant(
        "dm007_noop_instance",
        "KC-DM-007",
        "no-op methods of a plain instance, with a periodic task, on the listener side (SHOULD)",
    ),
    Mutant("pl007_narrow_hook", "KC-PL-007", "a session hook without **kwargs"),
    Mutant(
        "pl007_memory_no_kwargs",
        "KC-PL-007",
        "a memory provider's sync_turn rejects the host's session_id=",
    ),
    Mutant(
        "pl007_strict_options",
        "KC-PL-007",
        "a memory provider method with **options that raises ValueError for unknown ones",
    ),
    Mutant("pl008_command_args_only", "KC-PL-008", "a command handler of (raw_args) (SHOULD)"),
    Mutant(
        "pl008_strict_options",
        "KC-PL-008",
        "a command handler with **options that answers with its usage when given one (SHOULD)",
    ),
    Mutant("pl009_block_as_string", "KC-PL-009", "an async pre_tool_call returns 'block'"),
    Mutant(
        "pl009_later_turn_list",
        "KC-PL-009",
        "pre_llm_call returns {'context': ...} on the first turn and a list on later ones",
    ),
    Mutant("pl010_schema_typo", "KC-PL-010", "the tool's parameters have type 'objekt'"),
    Mutant(
        "pl010_dangling_ref",
        "KC-PL-010",
        "a property's $ref names #/$defs/unit, which the schema does not have",
    ),
    Mutant("pl011_raises_on_input", "KC-PL-011", "the handler raises KeyError without 'limit'"),
    Mutant(
        "pl011_cached_dict",
        "KC-PL-011",
        "the handler returns its cached dict, not JSON, on a second call with the same place",
    ),
    Mutant(
        "pl011_nan_average",
        "KC-PL-011",
        "the handler's JSON holds NaN (which Python's parser reads) when given no numbers",
    ),
    Mutant("pl012_builtin_command", "KC-PL-012", "registers /help, a host built-in command"),
    Mutant(
        "pl012_command_twice",
        "KC-PL-012",
        "registers /notes twice with different handlers; the second silently replaces the first",
    ),
    Mutant("pl013_renamed_tool", "KC-PL-013", "provides_tools names the tool's old name"),
    Mutant(
        "pl013_late_tool",
        "KC-PL-013",
        "its on_session_start hook registers a second tool provides_tools does not list",
    ),
    Mutant(
        "pl014_undeclared_env",
        "KC-PL-014",
        "a tool's requires_env is missing from the manifest (SHOULD)",
    ),
    Mutant(
        "pl014_reads_unlisted_key",
        "KC-PL-014",
        "a tool handler needs os.environ['KCT_FORECAST_KEY'], declared nowhere (SHOULD)",
    ),
    Mutant(
        "pl014_stale_variable",
        "KC-PL-014",
        "requires_env lists a variable only a comment still names (SHOULD)",
    ),
    Mutant("pl015_disjoint_hermes", "KC-PL-015", "requires_hermes '>=0.30,<0.20'"),
    Mutant(
        "pl015_space_separated",
        "KC-PL-015",
        "requires_hermes '>=0.19 <0.30': clauses separated by a space, as npm writes them",
    ),
    Mutant(
        "pl016_config_default_type",
        "KC-PL-016",
        "config_schema declares an integer with the default 'ten'",
    ),
    Mutant(
        "pl016_plugin_version_key",
        "KC-PL-016",
        "a requires_plugins entry gives its range as version:, which the host ignores",
    ),
    Mutant(
        "pl017_unbounded_dependency",
        "KC-PL-017",
        "python_dependencies has requests>=2.31 (SHOULD)",
    ),
    Mutant(
        "pl017_unpinned_git",
        "KC-PL-017",
        "python_dependencies has a git URL that names no revision (SHOULD)",
    ),
    Mutant(
        "pl018_registers_nothing",
        "KC-PL-018",
        "returns from register without registering when an optional backend is missing",
    ),
    Mutant(
        "pl018_registers_later",
        "KC-PL-018",
        "registers its tool from a timer thread, after register returned",
    ),
    Mutant(
        "pl019_swallows_context_error",
        "KC-PL-019",
        "catches the ValueError of a refused register_tool and registers only a hook",
    ),
    Mutant(
        "pl019_swallows_type_error",
        "KC-PL-019",
        "suppresses every error of a register_command call with a misspelt keyword",
    ),
    Mutant("pl020_misspelt_key", "KC-PL-020", "the manifest says require_env (SHOULD)"),
    Mutant("pl020_capitalised_key", "KC-PL-020", "the manifest says Description (SHOULD)"),
    Mutant(
        "pl021_duck_provider",
        "KC-PL-021",
        "a web-search provider with the host's methods but not its base class",
    ),
    Mutant(
        "pl021_raising_check_fn",
        "KC-PL-021",
        "a platform's check_fn raises ModuleNotFoundError when its SDK is missing",
    ),
    Mutant(
        "pl022_latin1_skill",
        "KC-PL-022",
        "its SKILL.md is saved as Latin-1, not UTF-8",
    ),
    Mutant(
        "pl022_skill_in_tempdir",
        "KC-PL-022",
        "registers a SKILL.md in a temporary directory removed as register returns",
    ),
    Mutant(
        "pl021_online_availability",
        "KC-PL-021",
        "a memory provider's is_available() pings its service (and says False when blocked)",
    ),
)


def mutant_dir(name: str) -> Path:
    """The plugin directory of the mutant ``name``.

    :raises KeyError: no such mutant; the message lists the known ones.
    """
    if all(m.name != name for m in MUTANTS):
        known = ", ".join(m.name for m in MUTANTS)
        msg = f"unknown mutant {name!r}; known mutants: {known}"
        raise KeyError(msg)
    return MUTANTS_DIR / name


@dataclasses.dataclass(frozen=True)
class RuntimeMutant:
    """A broken runtime: an adapter factory over a deliberately broken reference runtime.

    :param factory: ``module:factory`` for ``--kora-runtime``.
    :param check_id: the runtime check (KC-RT-*) it breaks.
    :param description: the bug, in a few words.
    :param also_breaks: other checks it cannot help breaking; every other check passes.
    """

    factory: str
    check_id: str
    description: str
    also_breaks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for check_id in (self.check_id, *self.also_breaks):
            if by_id(check_id).scope != "runtime":  # an unknown ID raises KeyError
                msg = f"runtime mutant {self.factory}: {check_id} is not a runtime check"
                raise ValueError(msg)

    @property
    def name(self) -> str:
        """The factory's name, which is also the certified runtime's name."""
        return self.factory.rpartition(":")[2]


def _runtime(name: str, check_id: str, description: str) -> RuntimeMutant:
    return RuntimeMutant(f"kora_conformance.mutants.runtimes:{name}", check_id, description)


def _runtime_mut(name: str, check_id: str, description: str, *also_breaks: str) -> RuntimeMutant:
    """A broken runtime of :mod:`kora_conformance.mutants.runtimes_mut`."""
    factory = f"kora_conformance.mutants.runtimes_mut:{name}"
    return RuntimeMutant(factory, check_id, description, also_breaks=also_breaks)


def _runtime_lc(name: str, check_id: str, description: str) -> RuntimeMutant:
    """A broken runtime of :mod:`kora_conformance.mutants.runtimes_lifecycle`."""
    factory = f"kora_conformance.mutants.runtimes_lifecycle:{name}"
    return RuntimeMutant(factory, check_id, description)


def _runtime_rt(name: str, check_id: str, description: str, *also_breaks: str) -> RuntimeMutant:
    """A broken runtime of :mod:`kora_conformance.mutants.runtimes_rt`."""
    factory = f"kora_conformance.mutants.runtimes_rt:{name}"
    return RuntimeMutant(factory, check_id, description, also_breaks=also_breaks)


#: The shipped broken runtimes (:mod:`kora_conformance.mutants.runtimes`), in catalog order.
RUNTIME_MUTANTS: Final[tuple[RuntimeMutant, ...]] = (
    _runtime(
        "set_ordering",
        "KC-RT-001",
        "the loader turns plugins.enabled into a set and loads in discovery order",
    ),
    _runtime_mut(
        "hooks_never_awaited",
        "KC-RT-001",
        "invoke_hook returns an async callback's coroutine, never awaited",
        "KC-RT-004",
    ),
    _runtime_mut(
        "first_root_wins",
        "KC-RT-001",
        "of two search roots holding one key, the earlier root's copy loads",
    ),
    _runtime_rt(
        "directories_first",
        "KC-RT-001",
        "a two-pass loader: directory plugins first, then entry points",
    ),
    _runtime_rt(
        "consults_all",
        "KC-RT-001",
        "every provider is consulted, the first claim then picked: later ones still called",
        # Its own consulting loop logs the raw callbacks it skips without their plugin.
        "KC-RT-002",
    ),
    _runtime(
        "naive_providers",
        "KC-RT-002",
        "providers are called unwrapped: exceptions escape, wrong types pass as specs",
    ),
    _runtime_rt(
        "unattributed_warnings",
        "KC-RT-002",
        "a skipped provider's WARNING names the function, never the plugin",
    ),
    _runtime_rt(
        "unawaited_providers",
        "KC-RT-002",
        "async providers are never awaited: a valid async claim is skipped as a wrong type",
    ),
    _runtime_mut(
        "mapping_envelopes_claim",
        "KC-RT-002",
        "a raw identity-hook envelope around a mapping claims, a spec built from the mapping",
    ),
    _runtime_mut(
        "exiting_provider_escapes",
        "KC-RT-002",
        "a provider's SystemExit is not isolated: it escapes the resolution",
    ),
    _runtime("ignores_prompt_env", "KC-RT-003", "the fallback ignores KORA_SYSTEM_PROMPT_PATH"),
    _runtime_rt(
        "missing_env_falls_through",
        "KC-RT-003",
        "a missing file named by KORA_SYSTEM_PROMPT_PATH falls through to the default",
    ),
    _runtime(
        "module_form_only",
        "KC-RT-004",
        "entry points load as ep.load().register, so pkg:register fails",
    ),
    _runtime_rt(
        "register_by_name",
        "KC-RT-004",
        "module:attr calls the module's register, whatever attribute the entry point names",
    ),
    _runtime_mut(
        "entry_points_all_or_nothing",
        "KC-RT-004",
        "one distribution with a broken entry_points.txt costs every entry-point plugin",
    ),
    _runtime(
        "no_rollback",
        "KC-RT-005",
        "registrations apply at once; a plugin failing half-way keeps them",
    ),
    _runtime_rt(
        "keeps_listeners",
        "KC-RT-005",
        "listener registrations apply at once; a plugin failing half-way keeps them",
    ),
    _runtime_mut(
        "unexplained_missing",
        "KC-RT-005",
        "an enabled name discovery passed over is reported without the entry or the reason",
    ),
    _runtime_mut(
        "ignores_late_registrations",
        "KC-RT-005",
        "a hook registered through a kept context after loading never takes effect",
    ),
    _runtime_mut(
        "ignores_import_registrations",
        "KC-RT-005",
        "what a plugin's import registers into the process defaults is never taken in",
        "KC-RT-006",
    ),
    _runtime(
        "swallowing_registry",
        "KC-RT-006",
        "the daemon registry swallows every duplicate error, real clashes included",
    ),
    _runtime_rt(
        "owner_only_comparison",
        "KC-RT-006",
        "a repeated daemon name is compared by owner only: a plugin's second daemon is dropped",
    ),
    _runtime_mut(
        "adopts_every_default",
        "KC-RT-006",
        "every plugin takes in what any import registered into the process defaults",
    ),
    _runtime("fifo_shutdown", "KC-RT-007", "the coordinator shuts down in FIFO order"),
    _runtime("ignores_fatal", "KC-RT-007", "a fatal startup failure does not stop the run"),
    _runtime("early_drivers", "KC-RT-007", "periodic drivers start before all startups finish"),
    _runtime(
        "late_driver_cancel",
        "KC-RT-007",
        "periodic drivers are cancelled after the shutdowns, not before",
    ),
    _runtime_rt(
        "no_shutdown_wait",
        "KC-RT-007",
        "every shutdown is abandoned after a token timeout, not its own shutdown_timeout",
    ),
    _runtime_rt(
        "stops_at_raising_shutdown",
        "KC-RT-007",
        "after one shutdown raises, the remaining daemons are never shut down",
    ),
    _runtime_lc(
        "no_listener_side_tasks",
        "KC-RT-007",
        "the coordinator drops the listener-side scheduler: a listener's other tasks never run",
    ),
    _runtime_lc(
        "periodic_exit_swallowed",
        "KC-RT-007",
        "a periodic task's SystemExit is one failed fire; the run goes on and ends with 0",
    ),
    _runtime_lc(
        "plugin_chooses_exit_status",
        "KC-RT-007",
        "a daemon's SystemExit(n) makes n the run's exit status",
    ),
    _runtime_lc(
        "daemons_only_coordinator",
        "KC-RT-007",
        "the coordinator drives daemon entries only: a listener with no entry never starts",
    ),
    _runtime("hook_fired_twice", "KC-RT-008", "the identity hook fires twice per engine"),
    _runtime("hook_without_engine", "KC-RT-008", "the identity hook gets engine=None"),
    _runtime_rt(
        "resolves_per_request",
        "KC-RT-008",
        "the engine re-resolves its identity, firing the hook, on every request",
        # Re-resolving without the engine's fallback path, its requests lose that identity.
        "KC-RT-011",
    ),
    _runtime(
        "anonymous_identity",
        "KC-RT-009",
        "the resolved identity names no plugin and no file (SHOULD)",
    ),
    _runtime_rt(
        "default_path_reported",
        "KC-RT-009",
        "the fallback identity names the default path, not the file read (SHOULD)",
    ),
    _runtime("persona_not_sent", "KC-RT-010", "the engine never sends the persona (SHOULD)"),
    _runtime_rt(
        "persona_first_request_only",
        "KC-RT-010",
        "only an engine's first request carries the persona (SHOULD)",
    ),
    _runtime_mut(
        "identity_first_request_only",
        "KC-RT-011",
        "only an engine's first request carries the identity",
        "KC-RT-010",
    ),
    _runtime_mut(
        "blank_persona_block",
        "KC-RT-011",
        "an empty persona is sent as a blank text block, which the API refuses",
    ),
    _runtime_mut(
        "mutable_spec_metadata",
        "KC-RT-012",
        "the spec type plugins import keeps the caller's metadata dict, mutable (the fork's)",
    ),
)
