"""The host behind the fixtures: one isolated reference runtime and its round-trip helpers."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import inspect
import io
import json
import shlex
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from kora_conformance.harness._virtual_run import virtual_run
from kora_conformance.harness._wire import messages_reply
from kora_conformance.model._targets import Target
from kora_conformance.testing._companions import Companions, HostRuntime
from kora_conformance.testing._queries import (
    QUERIES,
    PluginMisbehaved,
    PluginNotLoaded,
    RecordsCliCommands,
    RecordsCommands,
    RecordsTools,
    UnsupportedByRuntime,
)
from kora_conformance.testing._records import DaemonRun, WireCapture
from kora_conformance.testing._rules import HookOutcome, HostWarning, combine_results, watching
from reference_runtime import (
    LoadedPlugin,
    LoadReport,
    ReasoningEngine,
    ResolvedIdentity,
    Runtime,
    RuntimeConfig,
    resolve_awaitable,
)

__all__ = ["TEST_API_KEY", "PluginHost"]

#: The API key the host's engines use; nothing leaves the process (see :meth:`PluginHost.send`).
TEST_API_KEY: Final = "kora-test-key"


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
        self._runtime: HostRuntime | None = None
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
            runtime = HostRuntime(config, self.companions._candidates())
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
            with watching() as warnings:
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
            route = router.post(path__regex=r"/v1/messages/?$").respond(
                200, json=messages_reply(reply)
            )
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
        what, methods = QUERIES[protocol]
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
