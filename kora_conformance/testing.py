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

import argparse
import asyncio
import concurrent.futures
import contextlib
import dataclasses
import importlib
import importlib.metadata
import inspect
import io
import json
import logging
import os
import re
import shlex
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from reference_runtime import (
    DEFAULT_ENTRY_POINT_GROUPS,
    IDENTITY_HOOK,
    Candidate,
    Discovery,
    EventKind,
    IdentitySpec,
    LoadedPlugin,
    LoadReport,
    Manifest,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
    TimelineEvent,
    compat,
    resolve_awaitable,
)
from reference_runtime import _loading as loading

from ._errors import KitError, TargetError
from ._targets import Target, resolve_targets
from ._virtual_run import virtual_run
from ._wire import _reply, system_texts

if TYPE_CHECKING:
    from .strategies import ProviderBehaviour

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

_log = logging.getLogger("reference_runtime")

#: Module names that always belong to plugins or to the compatibility aliases.
_PLUGIN_NAMESPACES: Final = ("agent", loading.DIRECTORY_PACKAGE)
#: Environment variables a test starts without: they change what the runtime or a plugin does.
_DROPPED_ENV: Final = ("KORA_", "ANTHROPIC_", "HERMES_")
#: The upstream cap on one ``pre_llm_call`` result (the host spills the rest to a file).
PRE_LLM_CALL_CAP: Final = 10_000
#: The API key the host's engines use; nothing leaves the process (see :meth:`PluginHost.send`).
TEST_API_KEY: Final = "kora-test-key"
_COMPANION_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


# --- errors -------------------------------------------------------------------------------------


class PluginNotLoaded(KitError, AssertionError):
    """The plugin under test did not load: its import or ``register`` failed, its manifest is
    broken, or it was not found. The message carries the runtime's own explanation."""


class PluginMisbehaved(KitError, AssertionError):
    """The plugin under test did something the host logs and survives (a callback raised, a
    provider returned the wrong type); the host raises so that the test sees it."""


class UnsupportedByRuntime(KitError, NotImplementedError):
    """The runtime does not record what a helper needs (tools, slash or CLI commands)."""


# --- what a runtime's plugin context must offer for tools and commands --------------------------


@runtime_checkable
class RecordsTools(Protocol):
    """A plugin context that records the tools its plugin registered (``register_tool``)."""

    def tool_names(self) -> Sequence[str]:
        """The names of the tools the plugin registered, in registration order."""
        ...

    def tool_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of tool ``name`` (``handler(args: dict, **kwargs) -> str`` returning
        JSON, sync or async), or ``None`` when the plugin registered no such tool."""
        ...


@runtime_checkable
class RecordsCommands(Protocol):
    """A plugin context that records its plugin's slash commands (``register_command``)."""

    def command_names(self) -> Sequence[str]:
        """The registered ``/name`` commands, without the slash, in registration order."""
        ...

    def command_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of ``/name`` (called with the raw argument string, sync or async), or
        ``None``."""
        ...


#: A CLI command's parts: ``setup_fn(subparser)`` and the optional ``handler_fn(namespace)``.
CliParts = tuple[
    Callable[[argparse.ArgumentParser], Any], Callable[[argparse.Namespace], Any] | None
]


@runtime_checkable
class RecordsCliCommands(Protocol):
    """A plugin context that records its plugin's CLI commands (``register_cli_command``)."""

    def cli_command_names(self) -> Sequence[str]:
        """The registered ``hermes <name>`` commands, in registration order."""
        ...

    def cli_command(self, name: str) -> CliParts | None:
        """``(setup_fn, handler_fn)`` of command ``name``, or ``None``."""
        ...


#: Each query interface: what it records, and its methods, for error messages.
_QUERIES: Final[Mapping[type, tuple[str, str]]] = {
    RecordsTools: ("tools", "tool_names(), tool_handler(name)"),
    RecordsCommands: ("slash commands", "command_names(), command_handler(name)"),
    RecordsCliCommands: ("CLI commands", "cli_command_names(), cli_command(name)"),
}


# --- what the host logged -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HostWarning:
    """A WARNING the runtime logged about a plugin while the host called it.

    :ivar plugin: the plugin it names.
    :ivar message: the runtime's message, as an operator reads it.
    :ivar error: the exception the plugin raised, when it raised.
    """

    plugin: str
    message: str
    error: BaseException | None = None


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _host_warning(record: logging.LogRecord) -> HostWarning | None:
    # The runtime's per-plugin warnings name the plugin first ("plugin %r: ..."); an exception
    # it isolated is among the arguments.
    args = record.args if isinstance(record.args, tuple) else ()
    if not args or not isinstance(args[0], str) or not str(record.msg).startswith("plugin %r"):
        return None
    error = next((a for a in args if isinstance(a, BaseException)), None)
    return HostWarning(args[0], record.getMessage(), error)


@contextlib.contextmanager
def _watching() -> Iterator[list[HostWarning]]:
    """Collect the runtime's per-plugin warnings logged inside the block."""
    recorder = _Recorder()
    level = _log.level
    # A test (or the author's logging setup) that quiets the runtime must not hide a plugin's
    # failure from the host.
    if _log.getEffectiveLevel() > logging.WARNING:
        _log.setLevel(logging.WARNING)
    _log.addHandler(recorder)
    found: list[HostWarning] = []
    try:
        yield found
    finally:
        _log.removeHandler(recorder)
        _log.setLevel(level)
        found.extend(w for w in map(_host_warning, recorder.records) if w is not None)


# --- combining hook results as the host does ----------------------------------------------------


Results = Sequence[tuple[str, Any]]


@dataclasses.dataclass(frozen=True)
class HookRule:
    """How the host combines one hook's results.

    :ivar summary: the rule, in a sentence.
    :ivar combine: ``(results, warnings) -> combined``; ``results`` are ``(plugin, value)``
        pairs in plugin order (``None`` results already dropped), ``warnings`` what was logged.
    """

    summary: str
    combine: Callable[[Results, Sequence[HostWarning]], Any]


def _action(value: object, *actions: str) -> str | None:
    if isinstance(value, Mapping):
        action = value.get("action")
        if isinstance(action, str) and action in actions:
            return action
    return None


def _pre_tool_call(results: Results, warnings: Sequence[HostWarning]) -> Any:
    # The documented rule: a block beats an approve whatever the order; a callback that raised
    # fails closed, as a block naming it.
    blocks = [dict(v) for _, v in results if _action(v, "block")]
    blocks += [{"action": "block", "message": w.message} for w in warnings if w.error is not None]
    if blocks:
        return blocks[0]
    approve = next((dict(v) for _, v in results if _action(v, "approve")), None)
    if approve is not None:
        return approve
    merged: dict[str, Any] = {}
    modified = False
    for _, value in results:
        if _action(value, "modify") and isinstance(value.get("args"), Mapping):
            merged.update(value["args"])
            modified = True
    return {"action": "modify", "args": merged} if modified else None


def _pre_llm_call(results: Results, warnings: Sequence[HostWarning]) -> Any:
    parts = []
    for _, value in results:
        text = value.get("context") if isinstance(value, Mapping) else value
        if isinstance(text, str) and text.strip():
            parts.append(text[:PRE_LLM_CALL_CAP])
    return "\n\n".join(parts) if parts else None


def _first_string(*, non_empty: bool) -> Callable[[Results, Sequence[HostWarning]], Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        for _, value in results:
            if isinstance(value, str) and (value.strip() or not non_empty):
                return value
        return None

    return combine


def _first_mapping(test: Callable[[Mapping[str, Any]], bool]) -> Callable[..., Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        return next((dict(v) for _, v in results if isinstance(v, Mapping) and test(v)), None)

    return combine


def _merged(key: str | None) -> Callable[[Results, Sequence[HostWarning]], Any]:
    def combine(results: Results, warnings: Sequence[HostWarning]) -> Any:
        merged: dict[str, Any] = {}
        found = False
        for _, value in results:
            part = value.get(key) if key is not None and isinstance(value, Mapping) else value
            if isinstance(part, Mapping):
                merged.update(part)
                found = True
        return merged if found else None

    return combine


def _pre_tts_synthesis(results: Results, warnings: Sequence[HostWarning]) -> Any:
    failed = next((w for w in warnings if w.error is not None), None)
    if failed is not None:
        return {"action": "block", "message": failed.message}
    for _, value in results:
        if _action(value, "block") or (isinstance(value, Mapping) and "text" in value):
            return dict(value)
    return None


def _identity(results: Results, warnings: Sequence[HostWarning]) -> Any:
    return next((v["identity"] for _, v in results), None)


def _reason(value: Mapping[str, Any]) -> bool:
    reason = value.get("reason")
    return isinstance(reason, str) and bool(reason.strip())


#: The hooks whose results the host interprets, and how; every other hook is an observer
#: (its results are returned, their combination is ``None``). Where upstream's code and its
#: documentation disagree (``pre_tool_call``), the documentation's rule is used.
HOOK_RULES: Final[Mapping[str, HookRule]] = types.MappingProxyType(
    {
        IDENTITY_HOOK: HookRule(
            "the first valid claim in plugin order wins; later providers are not called",
            _identity,
        ),
        "pre_api_request_mutable": HookRule(
            "every {'override': {...}} is merged into the request in plugin order, a later "
            "plugin's key replacing an earlier one's",
            _merged("override"),
        ),
        "pre_gateway_dispatch": HookRule(
            "the first valid skip, rewrite or allow decides",
            _first_mapping(lambda v: _action(v, "skip", "rewrite", "allow") is not None),
        ),
        "pre_llm_call": HookRule(
            "every non-empty string or {'context': str} is joined with blank lines and appended "
            f"to the user message; each is capped at {PRE_LLM_CALL_CAP:,} characters",
            _pre_llm_call,
        ),
        "pre_tool_call": HookRule(
            "a block beats an approve whatever the order (a callback that raised blocks); else "
            "the first approve; else every modify's args shallow-merged in order",
            _pre_tool_call,
        ),
        "pre_transcription": HookRule(
            "returned mappings apply in plugin order, the last writer winning per field",
            _merged(None),
        ),
        "pre_tts_synthesis": HookRule(
            "the first block or {'text'} rewrite decides; a callback that raised blocks",
            _pre_tts_synthesis,
        ),
        "pre_verify": HookRule(
            "the first valid {'action': 'continue'} or {'decision': 'block', 'reason'} decides",
            _first_mapping(
                lambda v: _action(v, "continue") is not None or v.get("decision") == "block"
            ),
        ),
        "transform_api_error_classification": HookRule(
            "the first result with a non-empty 'reason' wins",
            _first_mapping(_reason),
        ),
        "transform_llm_output": HookRule(
            "the first non-empty string replaces the model's output", _first_string(non_empty=True)
        ),
        "transform_terminal_output": HookRule(
            "the first string returned replaces the output", _first_string(non_empty=False)
        ),
        "transform_tool_result": HookRule(
            "the first string returned replaces the tool's result", _first_string(non_empty=False)
        ),
    }
)

_OBSERVER: Final = HookRule("an observer: the host ignores the results", lambda r, w: None)


def combine_results(hook: str, results: Results, warnings: Sequence[HostWarning] = ()) -> Any:
    """Combine ``hook``'s ``(plugin, value)`` results as the host does (:data:`HOOK_RULES`)."""
    return HOOK_RULES.get(hook, _OBSERVER).combine(results, warnings)


@dataclasses.dataclass(frozen=True)
class HookOutcome:
    """One hook call: what each plugin returned, what the host made of it, what it logged.

    :ivar hook: the hook called.
    :ivar results: ``(plugin, value)`` for each non-``None`` result, in plugin order.
    :ivar combined: the results combined by the hook's rule (:attr:`rule`); ``None`` when
        nothing applies (for a transform: the host keeps its own value).
    :ivar warnings: what the runtime logged about plugins during the call.
    """

    hook: str
    results: tuple[tuple[str, Any], ...]
    combined: Any
    warnings: tuple[HostWarning, ...] = ()

    @property
    def values(self) -> list[Any]:
        """The results without their plugins, as ``invoke_hook`` returns them."""
        return [value for _, value in self.results]

    @property
    def rule(self) -> str:
        """How this hook's results were combined."""
        return HOOK_RULES.get(self.hook, _OBSERVER).summary

    def by_plugin(self, plugin: str) -> list[Any]:
        """The results ``plugin`` returned."""
        return [value for name, value in self.results if name == plugin]


# --- the wire and the daemons -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WireCapture:
    """One Messages API request the engine made, as it reached the (mocked) wire.

    :ivar request: the request's JSON body.
    :ivar engine: the engine that sent it (``engine.identity`` says who supplied the identity).
    :ivar response: what the engine's ``send`` returned (the canned reply).
    """

    request: dict[str, Any]
    engine: ReasoningEngine
    response: Any

    @property
    def system(self) -> list[str]:
        """The texts of the request's ``system`` content, in order (persona, then prompt)."""
        return system_texts(self.request.get("system"))

    @property
    def messages(self) -> list[Any]:
        """The request's ``messages``."""
        messages = self.request.get("messages")
        return list(messages) if isinstance(messages, list) else []


@dataclasses.dataclass(frozen=True)
class DaemonRun:
    """A virtual-time run of the runtime's daemons under the reference coordinator.

    :ivar seconds: the virtual seconds run.
    :ivar timeline: everything that happened, in order.
    :ivar exit_status: 0, or non-zero after a fatal startup failure.
    :ivar error: what ended the run early, raised from a daemon (``SystemExit``, say).
    """

    seconds: float
    timeline: tuple[TimelineEvent, ...]
    exit_status: int
    fire_counts: Mapping[str, int]
    error: BaseException | None = None

    def events(self, *kinds: EventKind | str) -> list[TimelineEvent]:
        """The events of ``kinds`` (all of them when none is given), in order."""
        wanted = {EventKind(kind) for kind in kinds}
        return [e for e in self.timeline if not wanted or e.kind in wanted]

    def fires(self, task: str | None = None) -> list[float]:
        """When periodic tasks fired (successfully or not), in virtual seconds; ``task`` to
        narrow to one task's fires."""
        kinds = {EventKind.FIRE_OK, EventKind.FIRE_FAILED}
        return [e.at for e in self.timeline if e.kind in kinds and (task is None or e.task == task)]

    def failures(self) -> list[TimelineEvent]:
        """Failed startups, fires and shutdowns, and shutdowns that timed out."""
        return self.events(
            EventKind.STARTUP_FAILED,
            EventKind.FIRE_FAILED,
            EventKind.SHUTDOWN_FAILED,
            EventKind.SHUTDOWN_TIMEOUT,
        )


# --- companions ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Companion:
    name: str
    register: Callable[[Any], Any]
    first: bool
    hooks: tuple[str, ...]


class Companions:
    """Other plugins loaded around the plugin under test, kept in memory (nothing is written to
    disk). Each is a real plugin to the runtime: it is enabled, loaded in ``plugins.enabled``
    order and registers through its own context.

    Add them before the host loads (its first call); ``first=True`` puts a companion before the
    plugin under test in ``plugins.enabled`` (companions added with it keep their order), the
    default after it.
    """

    def __init__(self, host: PluginHost) -> None:
        self._host = host
        self._added: list[_Companion] = []

    def __iter__(self) -> Iterator[str]:
        return iter(c.name for c in self._added)

    def _add(self, companion: _Companion) -> str:
        self._host._before_load(f"add companion plugin {companion.name!r}")
        if _COMPANION_NAME.fullmatch(companion.name) is None:
            msg = (
                f"companion plugin name {companion.name!r} is not a valid plugin name; use "
                "letters, digits, '_' and '-', starting with a letter"
            )
            raise ValueError(msg)
        taken = {c.name for c in self._added} | {self._host.name}
        if companion.name in taken:
            msg = (
                f"companion plugin name {companion.name!r} is already taken in this test; "
                "give each companion its own name"
            )
            raise ValueError(msg)
        self._added.append(companion)
        return companion.name

    def plugin(
        self,
        name: str,
        register: Callable[[Any], Any],
        *,
        first: bool = False,
        hooks: Sequence[str] = (),
    ) -> str:
        """A companion whose ``register(ctx)`` is ``register``; returns its name.

        :param hooks: the hook names its synthesised manifest declares.
        """
        return self._add(_Companion(name, register, first, tuple(hooks)))

    def identity(
        self,
        name: str,
        behaviour: IdentitySpec | ProviderBehaviour | Callable[..., Any] | None = "claims",
        *,
        first: bool = False,
    ) -> str:
        """A companion with one identity provider; returns its name.

        :param behaviour: the provider: an :class:`IdentitySpec` it returns, ``None`` (it
            declines), one of :data:`kora_conformance.strategies.BEHAVIOURS` (``"claims"``,
            ``"declines"``, ``"raises"``, ``"wrong_type"``), or a provider callable itself.
        """
        provider: Callable[..., Any]
        if behaviour is None or isinstance(behaviour, IdentitySpec):
            spec = behaviour

            def provider(**kwargs: Any) -> IdentitySpec | None:
                return spec

        elif isinstance(behaviour, str):
            # hypothesis (which the strategies module imports) costs a second; only here.
            from .strategies import BEHAVIOURS, make_provider  # noqa: PLC0415

            if behaviour not in BEHAVIOURS:
                msg = (
                    f"companion {name!r}: unknown provider behaviour {behaviour!r}; use one of "
                    f"{', '.join(BEHAVIOURS)}, an IdentitySpec, None or a provider callable"
                )
                raise ValueError(msg)
            provider = make_provider(behaviour, name=name)
        else:
            provider = behaviour

        def register(ctx: Any) -> None:
            ctx.register_identity_provider(provider)

        return self._add(_Companion(name, register, first, (IDENTITY_HOOK,)))

    def hook(
        self, name: str, hook: str, callback: Callable[..., Any], *, first: bool = False
    ) -> str:
        """A companion that registers ``callback`` for ``hook``; returns its name."""

        def register(ctx: Any) -> None:
            ctx.register_hook(hook, callback)

        return self._add(_Companion(name, register, first, (hook,)))

    def raising_hook(
        self,
        name: str,
        hook: str,
        error: Exception | None = None,
        *,
        first: bool = False,
    ) -> str:
        """A companion whose callback for ``hook`` raises ``error`` (a ``RuntimeError`` naming
        the companion by default); returns its name."""
        raised = error if error is not None else RuntimeError(f"companion {name!r} raised")

        def callback(**kwargs: Any) -> Any:
            raise raised

        callback.__qualname__ = f"{name}.{hook}"
        return self.hook(name, hook, callback, first=first)

    def _enabled(self, target: str | None) -> tuple[str, ...]:
        before = [c.name for c in self._added if c.first]
        after = [c.name for c in self._added if not c.first]
        return (*before, *([target] if target else []), *after)

    def _candidates(self) -> dict[str, tuple[Candidate, Callable[[Any], Any]]]:
        return {
            c.name: (
                Candidate(
                    c.name,
                    "directory",
                    f"companion plugin {c.name!r} (kora_companions, in memory)",
                    Manifest(name=c.name, version="0", hooks=c.hooks),
                ),
                c.register,
            )
            for c in self._added
        }


class _HostRuntime(Runtime):
    """The reference runtime, with in-memory companions among the discovered plugins."""

    def __init__(
        self,
        config: RuntimeConfig,
        companions: Mapping[str, tuple[Candidate, Callable[[Any], Any]]],
    ) -> None:
        super().__init__(config)
        self._companions = dict(companions)

    def discover(self) -> Discovery:
        found = super().discover()
        candidates = dict(found.candidates)
        candidates.update({name: pair[0] for name, pair in self._companions.items()})
        return Discovery(candidates, found.shadowed)

    def import_plugin(
        self, candidate: Candidate
    ) -> tuple[Callable[[Any], Any], types.ModuleType | None]:
        companion = self._companions.get(candidate.key)
        if companion is not None:
            return companion[1], None
        return super().import_plugin(candidate)


# --- the host -----------------------------------------------------------------------------------


def resolve_plugin(source: str | os.PathLike[str], cwd: Path) -> Target:
    """The one plugin ``source`` names, found as ``--kora-conformance`` finds it: a plugin
    directory, a project directory declaring an entry point, or an installed plugin's
    entry-point name (relative paths from ``cwd``).

    :raises TargetError: ``source`` names no plugin, or several; the message says how to name
        the one to test.
    """
    how = (
        "pass --kora-plugin DIR|NAME, or override the kora_plugin_source fixture in your "
        "conftest.py to return the plugin to test"
    )
    try:
        targets, _ = resolve_targets([os.fspath(source)], cwd)
    except TargetError as exc:
        msg = f"the kora_plugin fixture found no plugin to test: {exc}; {how}"
        raise TargetError(msg) from None
    if len(targets) != 1:
        names = ", ".join(t.name for t in targets)
        msg = f"{os.fspath(source)} holds several plugins ({names}); {how}"
        raise TargetError(msg)
    return targets[0]


def _entry_point_packages(target: Target) -> set[str]:
    """Top-level packages of the target's entry point (its modules belong to the plugin)."""
    values = [target.entry_point[1]] if target.entry_point is not None else []
    if target.route == "entry_point" and not values:
        for group in DEFAULT_ENTRY_POINT_GROUPS:
            values += [
                ep.value for ep in importlib.metadata.entry_points(group=group, name=target.name)
            ]
    return {value.partition(":")[0].strip().partition(".")[0] for value in values if value}


class PluginHost:
    """A fresh reference runtime for one test, with the plugin under test and companions.

    The runtime is built and loaded at the first call that needs it (so companions can be
    added first); :attr:`report` is the load report. Use it through the fixtures; the host
    itself does not isolate anything (:func:`isolation` does).

    :param home: the test's private home directory (``$HOME`` inside :func:`isolation`).
    :param scratch: a private directory the host may write to.
    :param target: the plugin under test, or ``None`` for a runtime of companions only.
    """

    def __init__(self, *, home: Path, scratch: Path, target: Target | None = None) -> None:
        self.home = home
        self._scratch = scratch
        self.target = target
        self.companions = Companions(self)
        self._runtime: _HostRuntime | None = None
        self._stack = contextlib.ExitStack()

    @property
    def name(self) -> str | None:
        """The plugin under test's name (the key ``plugins.enabled`` lists), if any."""
        return self.target.name if self.target is not None else None

    @property
    def enabled(self) -> tuple[str, ...]:
        """``plugins.enabled``: companions added with ``first=True``, the plugin, the others."""
        return self.companions._enabled(self.name)

    def _before_load(self, what: str) -> None:
        if self._runtime is not None:
            msg = (
                f"cannot {what}: the runtime already loaded (a call on the host loads it); add "
                "companions at the top of the test, before the first call"
            )
            raise RuntimeError(msg)

    def write_fallback_prompt(self, text: str) -> Path:
        """Write the runtime's default fallback system prompt (``~/.kora/...`` in the test's
        home), which is read when no provider claims the identity; returns its path."""
        path = self.home / ".kora" / "kora_system_prompt.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    @property
    def runtime(self) -> Runtime:
        """The runtime, loaded."""
        if self._runtime is None:
            if self.target is not None:
                self._stack.enter_context(self.target.installed(self._scratch))
                config = self.target.config(self.enabled)
            else:
                config = RuntimeConfig(enabled=self.enabled, entry_point_groups=())
            runtime = _HostRuntime(config, self.companions._candidates())
            self._runtime = runtime
            self._stack.callback(runtime.close)
            runtime.load()
        return self._runtime

    @property
    def report(self) -> LoadReport:
        """The runtime's load report (loading it first)."""
        return self.runtime.report

    @property
    def plugin(self) -> LoadedPlugin:
        """The plugin under test as loaded: its hooks, providers, daemons, module.

        :raises PluginNotLoaded: it did not load; the message is the runtime's reason.
        """
        if self.target is None:
            msg = "this host has no plugin under test; use the kora_plugin fixture"
            raise PluginNotLoaded(msg)
        report = self.report
        loaded = report.plugin(self.target.name)
        if loaded is not None:
            return loaded
        why = report.errors.get(self.target.name)
        if why is None:
            why = next(
                (w for w in report.warnings if repr(self.target.name) in w),
                "it was not found",
            )
        msg = f"plugin {self.target.label} ({self.target.location}) did not load: {why}"
        raise PluginNotLoaded(msg)

    @property
    def module(self) -> types.ModuleType | None:
        """The plugin under test's module, imported afresh for this test."""
        return self.plugin.module

    def _loaded(self) -> Runtime:
        # Every helper goes through here: a plugin under test that did not load fails the test
        # with the runtime's reason instead of a puzzling empty result later on.
        runtime = self.runtime
        if self.target is not None:
            _ = self.plugin
        return runtime

    def _check(self, warnings: Sequence[HostWarning], raise_errors: bool) -> None:
        if not raise_errors or self.target is None:
            return
        for warning in warnings:
            if warning.plugin == self.target.name:
                msg = (
                    f"{warning.message}\n(a host logs this and carries on without the plugin's "
                    "result; pass raise_errors=False to see what the host makes of it)"
                )
                raise PluginMisbehaved(msg) from warning.error

    @contextlib.contextmanager
    def _observed(self, raise_errors: bool) -> Iterator[list[HostWarning]]:
        """Collect the runtime's warnings about plugins inside the block, then fail on one about
        the plugin under test (also when the block raised: the plugin's misbehaviour is then
        usually the cause, such as a provider that raised leaving nobody to claim)."""
        warnings: list[HostWarning] = []
        try:
            with _watching() as warnings:
                yield warnings
        finally:
            self._check(warnings, raise_errors)

    def invoke_hook(self, hook: str, /, *, raise_errors: bool = True, **kwargs: Any) -> HookOutcome:
        """Call ``hook`` with ``kwargs`` as the host does: every callback in plugin order with
        keyword arguments, exceptions isolated, ``None`` results dropped, and the results
        combined by the hook's rule (:data:`HOOK_RULES`).

        :param raise_errors: raise :class:`PluginMisbehaved` when a callback of the plugin under
            test raised or returned what the runtime rejects (companions' failures are isolated
            as the host isolates them, and listed in :attr:`HookOutcome.warnings`).
        """
        runtime = self._loaded()
        with self._observed(raise_errors) as warnings:
            results = runtime.invoke_hook_attributed(hook, **kwargs)
        return HookOutcome(
            hook, tuple(results), combine_results(hook, results, warnings), tuple(warnings)
        )

    def resolve_identity(
        self, *, raise_errors: bool = True, engine: Any = None, **context: Any
    ) -> ResolvedIdentity:
        """Resolve the identity as engine construction does (``pre_agent_identity_set`` once,
        then the fallback file); ``resolved.plugin`` names the winner.

        :param raise_errors: as for :meth:`invoke_hook`, for the plugin under test's providers.
        :raises IdentityResolutionError: nothing claimed and the fallback file failed.
        """
        runtime = self._loaded()
        with self._observed(raise_errors):
            return runtime.resolve_identity(engine=engine, **context)

    def engine(self, *, raise_errors: bool = True, **options: Any) -> ReasoningEngine:
        """Build the reference engine (resolving the identity once); ``options`` are
        :class:`~reference_runtime.ReasoningEngine` keywords. It has a test API key, so
        :meth:`send` needs no credentials."""
        runtime = self._loaded()
        options.setdefault("api_key", TEST_API_KEY)
        with self._observed(raise_errors):
            return ReasoningEngine(runtime, **options)

    def send(
        self,
        message: str | Sequence[dict[str, Any]] = "Hello",
        *,
        engine: ReasoningEngine | None = None,
        reply: str = "ok",
        raise_errors: bool = True,
    ) -> WireCapture:
        """Send ``message`` through an engine (a new one by default) with the Messages API
        mocked by respx, and return the request as it reached the wire. Nothing leaves the
        process: any request respx does not answer fails.

        :param reply: the text of the canned response.
        """
        import pytest_httpx2  # noqa: F401, PLC0415 - registers respx's httpcore2 mocker
        import respx  # noqa: PLC0415

        engine = engine if engine is not None else self.engine(raise_errors=raise_errors)
        with respx.mock(using="httpcore2", assert_all_called=False) as router:
            route = router.post(path__regex=r"/v1/messages/?$").respond(200, json=_reply(reply))
            with self._observed(raise_errors):
                response = engine.send(message)
        body = json.loads(route.calls.last.request.content)
        return WireCapture(body, engine, response)

    def run_daemons(self, seconds: float, *, wall_clock: bool = False) -> DaemonRun:
        """Run every daemon the runtime holds for ``seconds`` of virtual time under the
        reference coordinator (start, periodic fires, shutdown) and return the timeline. Hours
        cost milliseconds; no real sleep happens. It works from async tests too.

        :param wall_clock: move ``time.time()`` and friends in step with the virtual clock, for
            daemons that stamp wall time (it costs about a second: every module is patched).
        """
        runtime = self._loaded()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            outcome = virtual_run(runtime, seconds, wall_clock=wall_clock)
        else:
            # An async test: the run needs an event loop of its own, which the test's running
            # loop forbids in this thread.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                outcome = pool.submit(virtual_run, runtime, seconds, wall_clock=wall_clock).result()
        coordinator = outcome.coordinator
        return DaemonRun(
            seconds,
            coordinator.timeline,
            coordinator.exit_status,
            dict(coordinator.fire_counts()),
            outcome.error,
        )

    def _contexts(self) -> list[tuple[str, object]]:
        runtime = self._loaded()
        return [(p.key, runtime.context(p.key)) for p in runtime.report.loaded]

    def _unsupported(self, protocol: type) -> UnsupportedByRuntime:
        what, methods = _QUERIES[protocol]
        context = type(self.runtime).context_class.__qualname__
        msg = (
            f"this runtime records no {what}: its plugin context ({context}) does not implement "
            f"{protocol.__name__} ({methods}), which a runtime that supports {what} provides"
        )
        return UnsupportedByRuntime(msg)

    def call_tool(self, name: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Call tool ``name`` as the host does, ``handler(args, **kwargs)``, and return its JSON
        result parsed.

        :raises UnsupportedByRuntime: the runtime records no tools.
        :raises LookupError: no loaded plugin registered ``name``.
        :raises PluginMisbehaved: the handler raised or did not return a JSON string.
        """
        recorders = [(k, c) for k, c in self._contexts() if isinstance(c, RecordsTools)]
        if not recorders:
            raise self._unsupported(RecordsTools)
        found = [(k, h) for k, c in recorders if (h := c.tool_handler(name)) is not None]
        if not found:
            known = [n for _, c in recorders for n in c.tool_names()]
            msg = (
                f"no tool {name!r} is registered (registered: {', '.join(known) or 'none'}); "
                "check the name passed to ctx.register_tool"
            )
            raise LookupError(msg)
        plugin, handler = found[0]
        where = f"tool {name!r} of plugin {plugin!r}"
        try:
            raw = handler(dict(args or {}), **kwargs)
            if inspect.isawaitable(raw):
                raw = resolve_awaitable(raw)
        except Exception as exc:
            msg = (
                f"{where} raised {type(exc).__name__}: {exc}; a tool handler must return a JSON "
                'string, errors included (json.dumps({"error": ...}))'
            )
            raise PluginMisbehaved(msg) from exc
        if not isinstance(raw, str):
            msg = (
                f"{where} returned {type(raw).__name__}, not a JSON string; return "
                "json.dumps(result)"
            )
            raise PluginMisbehaved(msg)
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            msg = f"{where} returned {raw[:200]!r}, which is not valid JSON ({exc})"
            raise PluginMisbehaved(msg) from exc

    def run_command(self, name: str, args: str = "") -> Any:
        """Run the slash command ``/name`` with the raw argument string ``args``, as the host
        does, and return what its handler returned (awaited when async).

        :raises UnsupportedByRuntime: the runtime records no slash commands.
        :raises LookupError: no loaded plugin registered it.
        """
        name = name.removeprefix("/")
        recorders = [(k, c) for k, c in self._contexts() if isinstance(c, RecordsCommands)]
        if not recorders:
            raise self._unsupported(RecordsCommands)
        handler = next(
            (h for _, c in recorders if (h := c.command_handler(name)) is not None), None
        )
        if handler is None:
            known = [f"/{n}" for _, c in recorders for n in c.command_names()]
            msg = (
                f"no slash command /{name} is registered (registered: "
                f"{', '.join(known) or 'none'}); check the name passed to ctx.register_command"
            )
            raise LookupError(msg)
        result = handler(args)
        return resolve_awaitable(result) if inspect.isawaitable(result) else result

    def run_cli_command(self, name: str, argv: Sequence[str] = ()) -> tuple[Any, str]:
        """Run ``hermes <name> <argv...>`` as the host does: ``setup_fn`` fills the command's
        argparse subparser, the arguments are parsed, and the handler (``handler_fn``, else a
        ``func`` the setup set as a default) gets the namespace.

        :returns: what the handler returned, and what it printed to stdout.
        :raises UnsupportedByRuntime: the runtime records no CLI commands.
        :raises LookupError: no loaded plugin registered it.
        :raises ValueError: ``argv`` does not parse (argparse's message says why).
        :raises PluginMisbehaved: there is no handler to call.
        """
        recorders = [(k, c) for k, c in self._contexts() if isinstance(c, RecordsCliCommands)]
        if not recorders:
            raise self._unsupported(RecordsCliCommands)
        parts = next((p for _, c in recorders if (p := c.cli_command(name)) is not None), None)
        if parts is None:
            known = [n for _, c in recorders for n in c.cli_command_names()]
            msg = (
                f"no CLI command {name!r} is registered (registered: {', '.join(known) or 'none'}"
                "); check the name passed to ctx.register_cli_command"
            )
            raise LookupError(msg)
        setup, handler = parts
        parser = argparse.ArgumentParser(prog="hermes", exit_on_error=False)
        subparsers = parser.add_subparsers(dest="command")
        setup(subparsers.add_parser(name))
        errors = io.StringIO()
        try:
            with contextlib.redirect_stderr(errors):
                namespace = parser.parse_args([name, *argv])
        except (argparse.ArgumentError, SystemExit) as exc:
            msg = (
                f"hermes {shlex.join([name, *argv])}: the arguments do not parse with the "
                f"parser its setup_fn built: {errors.getvalue().strip() or exc}"
            )
            raise ValueError(msg) from None
        call = handler if handler is not None else getattr(namespace, "func", None)
        if not callable(call):
            msg = (
                f"CLI command {name!r} has no handler: pass handler_fn to register_cli_command "
                "or set_defaults(func=...) in its setup_fn"
            )
            raise PluginMisbehaved(msg)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            result = call(namespace)
            if inspect.isawaitable(result):
                result = resolve_awaitable(result)
        return result, output.getvalue()

    def close(self) -> None:
        """Close the runtime and undo what loading set up (an uninstalled project's temporary
        distribution)."""
        self._stack.close()


# --- isolation ----------------------------------------------------------------------------------


def _owned(name: str, module: object, roots: Sequence[Path], packages: set[str]) -> bool:
    top = name.partition(".")[0]
    if top in _PLUGIN_NAMESPACES or top in packages:
        return True
    location = getattr(module, "__file__", None)
    if not location:
        return False
    path = Path(location)
    return any(path.is_relative_to(root) for root in roots)


@contextlib.contextmanager
def isolation(
    home: Path, *, target: Target | None = None, scratch: Path | None = None
) -> Iterator[None]:
    """Run one test in isolation from the others.

    Inside the block: ``$HOME`` is ``home`` (and ``$HERMES_HOME`` is ``home/.hermes``), no
    ``KORA_*``, ``ANTHROPIC_*`` or ``HERMES_*`` variable is inherited, the fork's ``agent.*``
    import aliases are installed, the process-default daemon and listener registries are
    fresh, and the plugin's modules (``hermes_plugins.*`` for a directory plugin, the package
    of ``target``'s entry point, modules under ``home`` or ``scratch``) are not imported yet,
    so the plugin imports afresh.

    After it: the environment, ``sys.path``, ``sys.meta_path`` and the registries are as they
    were, the aliases are gone (unless they were installed before), the plugin's modules
    imported inside are dropped and those imported before are put back. Other libraries
    imported inside (an SDK loaded lazily) stay imported: they hold no test's state.
    """
    roots = [home] + ([scratch] if scratch is not None else [])
    packages = _entry_point_packages(target) if target is not None else set()
    # Both spellings: a module's __file__ keeps the path it was imported by (a symlinked /tmp).
    resolved_roots = [*roots, *(r.resolve() for r in roots)]
    saved_modules = dict(sys.modules)
    set_aside = {n: m for n, m in saved_modules.items() if _owned(n, m, resolved_roots, packages)}
    saved_path, saved_meta_path = list(sys.path), list(sys.meta_path)
    saved_environ = dict(os.environ)
    saved_locations = dict(loading._FINDER.locations)
    for name in set_aside:
        del sys.modules[name]
    for variable in [v for v in os.environ if v.startswith(_DROPPED_ENV)]:
        del os.environ[variable]
    os.environ["HOME"] = str(home)
    os.environ["HERMES_HOME"] = str(home / ".hermes")
    importlib.invalidate_caches()
    try:
        with compat.installed(), compat.isolated_defaults():
            yield
    finally:
        for name, module in list(sys.modules.items()):
            if name not in saved_modules and _owned(name, module, resolved_roots, packages):
                del sys.modules[name]
        for name, module in saved_modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        sys.path[:] = saved_path
        sys.meta_path[:] = saved_meta_path
        loading._FINDER.locations.clear()
        loading._FINDER.locations.update(saved_locations)
        if dict(os.environ) != saved_environ:
            os.environ.clear()
            os.environ.update(saved_environ)
        importlib.invalidate_caches()
