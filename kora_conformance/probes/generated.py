"""What the probe plugins the runtime checks generate at check time do, and how each behaves.

A check writes small plugins into its scratch directory (directories and entry-point packages,
see ``suites/runtime/_generated.py``); each one's code is two lines calling
:func:`plugin_functions` with its name. What its identity provider does is read, at each call,
from :data:`BEHAVIOUR`, which the check sets before each session: one set of plugins serves every
example of a property-based check, although a runtime keeps plugin modules imported.

Every function a generated plugin registers is defined here, with a name that does not contain
the plugin's, so a warning that names only the callable does not name the plugin by accident.
Plain standard library (no runtime import), so a fork's runtime can load the plugins.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from kora_conformance._contract import IDENTITY_HOOK
from kora_conformance.probes import journal
from kora_conformance.probes.common import (
    HANG_TIMEOUT,
    INTERVAL,
    SESSION_HOOK,
    failing_startup,
    hanging_shutdown,
    recorder,
)

__all__ = [
    "BEHAVIOUR",
    "BEHAVIOURS",
    "CALLBACK_KINDS",
    "CLAIMING",
    "DUAL",
    "DUAL_TASKS",
    "EXITS_PERIODIC",
    "EXIT_CODE",
    "HALF_HOOK",
    "HALF_KINDS",
    "LIFECYCLE",
    "LISTENER_DUAL",
    "LISTENER_ONLY",
    "LISTENER_PRIMARY",
    "RAW_KINDS",
    "REGISTER",
    "GeneratedIdentity",
    "clash_name",
    "half_names",
    "identity_of",
    "plugin_functions",
]

#: What a generated identity provider can do; the ``async_`` ones are coroutine functions;
#: ``exits`` raises ``SystemExit``.
BEHAVIOURS: Final = (
    "claims",
    "declines",
    "raises",
    "wrong_type",
    "async_claims",
    "async_declines",
    "async_raises",
    "async_wrong_type",
    "exits",
    "async_exits",
)
#: The behaviours that make a valid claim.
CLAIMING: Final = frozenset({"claims", "async_claims"})

#: Plugin name → its provider's behaviour (``claims`` when absent); set by the check.
BEHAVIOUR: dict[str, str] = {}
#: Plugin name → what its ``register`` does besides the identity provider and the session hook:
#: ``half`` registers every kind (:data:`HALF_KINDS`) and then raises; ``twin:<other>``
#: registers the tool and the command ``<other>`` registers when it half-registers (a runtime
#: that kept ``<other>``'s refuses them, so the twin fails to load); ``same_daemon_twice`` and
#: ``two_daemons_one_name`` register a daemon name twice (see :func:`clash_name`);
#: ``listeners`` and ``listeners_fatal`` register on the listener side (see
#: :data:`LISTENER_DUAL`); ``takes:<daemon>`` registers a daemon of its own under that name;
#: ``raw:<kind>`` registers a raw identity-hook callback (:data:`RAW_KINDS`) before its
#: provider; ``late`` registers a hook later, through the context it kept.
REGISTER: dict[str, str] = {}

#: What a half-registering plugin registers before it raises, in order.
HALF_KINDS: Final = ("hook", "identity provider", "daemon", "listener", "tool", "command")


@dataclasses.dataclass(frozen=True)
class GeneratedIdentity:
    """The identity a generated plugin claims."""

    persona: str
    system_prompt: str


def identity_of(plugin: str) -> GeneratedIdentity:
    """The identity ``plugin`` claims when its behaviour claims."""
    return GeneratedIdentity(
        f"{plugin} persona (a generated kora-conformance probe).",
        f"You are {plugin}, a generated kora-conformance probe identity.",
    )


class _Refused(RuntimeError):
    """The deliberate failure of a raising provider or a half-registering plugin."""


def _spec(plugin: str) -> Any:
    from agent.identity_spec import IdentitySpec  # type: ignore[import-not-found]  # noqa: PLC0415

    identity = identity_of(plugin)
    return IdentitySpec(identity.persona, identity.system_prompt, {"plugin_name": plugin})


def _outcome(plugin: str, behaviour: str) -> Any:
    base = behaviour.removeprefix("async_")
    if base == "claims":
        return _spec(plugin)
    if base == "raises":
        msg = "deliberate provider failure (a generated kora-conformance probe)"
        raise _Refused(msg)
    if base == "exits":
        raise SystemExit(EXIT_CODE)  # a BaseException: still only this provider's failure
    if base == "wrong_type":
        # Not an IdentitySpec, and nothing in it names the plugin (a WARNING quoting the value
        # must not pass for one naming the plugin).
        return {"system_prompt_content": "a mapping, not an IdentitySpec"}
    return None


def _provider(plugin: str) -> Callable[..., Any]:
    def provide(*, engine: Any = None, **kwargs: Any) -> Any:
        behaviour = BEHAVIOUR.get(plugin, "claims")
        journal.record("identity", plugin, engine=engine, behaviour=behaviour)
        if not behaviour.startswith("async_"):
            return _outcome(plugin, behaviour)

        async def later() -> Any:
            await asyncio.sleep(0)
            return _outcome(plugin, behaviour)

        return later()

    return provide


#: What a raw ``pre_agent_identity_set`` callback (registered with ``register_hook``) returns
#: in mode ``raw:<kind>``: the envelope ``{"identity": spec}``, an envelope around a mapping
#: that is not a spec, or a bare spec (not enveloped).
RAW_KINDS: Final = ("envelope", "bad_envelope", "bare_spec")


def _raw_callback(plugin: str, kind: str) -> Callable[..., Any]:
    def raw_identity(**kwargs: Any) -> Any:
        journal.record("identity", plugin, raw=kind)
        if kind == "envelope":
            return {"identity": _spec(plugin)}
        if kind == "bad_envelope":
            return {"identity": {"system_prompt_content": "a mapping, not an IdentitySpec"}}
        return _spec(plugin)

    return raw_identity


def _session_hook(plugin: str, *, is_async: bool = False) -> Callable[..., Any]:
    def on_session(**kwargs: Any) -> str:
        journal.record("hook", plugin, keywords=tuple(sorted(kwargs)))
        return plugin

    if not is_async:
        return on_session

    async def on_session_async(**kwargs: Any) -> str:
        await asyncio.sleep(0)
        return on_session(**kwargs)

    return on_session_async


def _registers_late(ctx: Any, plugin: str) -> Callable[..., None]:
    """Mode ``late``: a session hook that, on its first call, registers a :data:`HALF_HOOK`
    callback through the context the plugin kept (after ``register`` returned)."""
    done: list[bool] = []

    def on_session(**kwargs: Any) -> None:
        if not done:
            done.append(True)
            ctx.register_hook(HALF_HOOK, _session_hook(plugin))

    return on_session


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _other_noop(*args: Any, **kwargs: Any) -> None:
    return None


def clash_name(plugin: str) -> str:
    """The daemon name ``plugin`` registers twice in the modes ``same_daemon_twice`` (the same
    daemon: a no-op) and ``two_daemons_one_name`` (two different daemons: an error)."""
    return f"kc_gen.twice.{plugin}"


#: What a daemon callback can do: return, await and return, raise, await and raise.
CALLBACK_KINDS: Final = ("sync", "async", "raises", "async_raises")
#: Further kinds, ``exits`` and ``async_exits``: raise ``SystemExit(EXIT_CODE)`` (a
#: process-level exception from plugin code, a fatal failure of that daemon).
EXIT_CODE: Final = 7
#: Plugin (in mode ``lifecycle``) → its daemons, in registration order: (name, startup kind,
#: shutdown kind). Each callback journals ``startup``/``shutdown`` when called and
#: ``startup_done``/``shutdown_done`` when it returns.
LIFECYCLE: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _step(kind: str, name: str, event: str) -> Callable[..., Any]:
    def finish() -> None:
        if kind.endswith("raises"):
            msg = f"deliberate {event} failure of {name} (a generated kora-conformance probe)"
            raise _Refused(msg)
        if kind.endswith("exits"):
            raise SystemExit(EXIT_CODE)  # a process-level exception: never the exit status
        journal.record(f"{event}_done", name)

    if kind.startswith("async"):

        async def later(*args: Any) -> None:
            journal.record(event, name)
            await asyncio.sleep(0)
            finish()

        return later

    def now(*args: Any) -> None:
        journal.record(event, name)
        finish()

    return now


def _startup(name: str, kind: str) -> Callable[..., Any]:
    return _step(kind, name, "startup")


def _shutdown(name: str, kind: str) -> Callable[..., Any]:
    return _step(kind, name, "shutdown")


#: Mode ``listeners``: a fork-style listener on both sides (its instance's bound methods as a
#: daemon entry with a periodic task and as a listener factory, under one name), then a
#: listener-only one whose factory gives ``(startup, shutdown, HANG_TIMEOUT)`` and whose async
#: shutdown hangs. Mode ``listeners_fatal``: a daemon entry, then a listener-only one whose
#: startup raises (a listener with no daemon entry is fatal), then another that must not start.
LISTENER_DUAL: Final = "kc_gen_dual"
LISTENER_ONLY: Final = "kc_gen_only"
LISTENER_PRIMARY: Final = "kc_gen_primary"


class _ForkListener:
    """A listener instance whose bound methods go to both registries, as the fork's do."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = 0

    def startup(self, coordinator: Any = None) -> None:
        self.started += 1
        journal.record("startup", self.name, count=self.started)
        journal.record("startup_done", self.name)

    def shutdown(self) -> None:
        journal.record("shutdown", self.name, started=self.started)

    async def poll(self) -> None:
        await asyncio.sleep(0)  # an async periodic callback: the driver awaits it
        journal.record("fire", self.name)


def _listeners(ctx: Any, *, fatal: bool) -> None:
    from agent.background_daemon_registry import (  # type: ignore[import-not-found]  # noqa: PLC0415
        PeriodicTaskSpec,
    )

    if fatal:
        startup, shutdown, fire = recorder(LISTENER_PRIMARY)
        spec = PeriodicTaskSpec(INTERVAL, fire, f"{LISTENER_PRIMARY}.fire")
        ctx.register_background_daemon(LISTENER_PRIMARY, startup, shutdown, periodic_task=spec)
        failing = failing_startup(LISTENER_ONLY)
        ctx.register_listener(LISTENER_ONLY, lambda: (failing, _noop))
        never, never_down, _ = recorder(LISTENER_DUAL)
        ctx.register_listener(LISTENER_DUAL, lambda: (never, never_down))
        return
    dual = _ForkListener(LISTENER_DUAL)
    spec = PeriodicTaskSpec(INTERVAL, dual.poll, f"{LISTENER_DUAL}.poll")
    ctx.register_background_daemon(LISTENER_DUAL, dual.startup, dual.shutdown, periodic_task=spec)
    ctx.register_listener(LISTENER_DUAL, lambda: (dual.startup, dual.shutdown))
    only_up, _, _ = recorder(LISTENER_ONLY)

    async def only_down() -> None:
        await hanging_shutdown(LISTENER_ONLY)

    ctx.register_listener(LISTENER_ONLY, lambda: (only_up, only_down, HANG_TIMEOUT))


#: Mode ``exits_periodic``: three recorder daemons in this order, the middle one's periodic
#: task raising ``SystemExit`` on its first fire (``GeneratorExit`` in mode
#: ``exits_periodic:generator``).
EXITS_PERIODIC: Final = ("kc_esc.p1", "kc_esc.p2", "kc_esc.p3")


def _exits_periodic(ctx: Any, *, generator: bool) -> None:
    from agent.background_daemon_registry import PeriodicTaskSpec  # noqa: PLC0415

    def exits() -> None:
        journal.record("fire", EXITS_PERIODIC[1])
        if generator:
            raise GeneratorExit
        raise SystemExit(EXIT_CODE)

    for name in EXITS_PERIODIC:
        startup, shutdown, fire = recorder(name)
        callback = exits if name == EXITS_PERIODIC[1] else fire
        spec = PeriodicTaskSpec(INTERVAL, callback, f"{name}.fire")
        ctx.register_background_daemon(name, startup, shutdown, periodic_task=spec)


#: Mode ``dual``: a multi-task listener through the runtime's own dual-registration helper,
#: when it has one (``ctx.register_dual_listener`` and a ``DaemonListener`` base class in the
#: context's package): its entry carries the primary task, the second task stays on the
#: listener side. Without the helper the probe journals ``dual_unsupported``.
DUAL: Final = "kc_gen_multi"
DUAL_TASKS: Final = (f"{DUAL}.poll", f"{DUAL}.rollup")


def _dual(ctx: Any, name: str = DUAL) -> None:
    from agent.background_daemon_registry import PeriodicTaskSpec  # noqa: PLC0415

    register = getattr(ctx, "register_dual_listener", None)
    package = sys.modules.get(type(ctx).__module__.partition(".")[0])
    base = getattr(package, "DaemonListener", None)
    if not callable(register) or not isinstance(base, type):
        journal.record("dual_unsupported", name)
        return
    tasks = (f"{name}.poll", f"{name}.rollup")

    async def startup(self: Any, coordinator: Any = None) -> None:
        journal.record("startup", name)

    async def shutdown(self: Any) -> None:
        journal.record("shutdown", name)

    async def poll(self: Any) -> None:
        await asyncio.sleep(0)
        journal.record("fire", tasks[0])

    def rollup(self: Any) -> None:
        journal.record("fire", tasks[1])

    # One class (and so one process-wide instance) per listener name.
    qualname = "KcGen_" + name
    namespace: dict[str, object] = {"startup": startup, "shutdown": shutdown, "poll": poll}
    namespace.update({"rollup": rollup, "__module__": __name__, "__qualname__": qualname})
    listener = type(qualname, (base,), namespace).instance()  # type: ignore[attr-defined]
    register(
        name,
        listener,
        periodic_task=PeriodicTaskSpec(INTERVAL, listener.poll, tasks[0]),
        listener_side_tasks=[PeriodicTaskSpec(INTERVAL, listener.rollup, tasks[1])],
    )


def half_names(plugin: str) -> dict[str, str]:
    """Kind → the name under which a half-registering ``plugin`` registers it."""
    return {
        "hook": HALF_HOOK,
        "daemon": f"kc_gen.{plugin}",
        "listener": f"kc_gen_{plugin}",
        "tool": f"kc_gen_{plugin}",
        "command": f"kc-gen-{plugin.replace('_', '-')}",
        "dual": f"kc_gen_dual_{plugin}",
    }


#: The hook a half-registering plugin registers (no other generated plugin does).
HALF_HOOK: Final = "on_session_end"


def _tool_and_command(ctx: Any, plugin: str, names: Mapping[str, str]) -> None:
    schema = {
        "name": names["tool"],
        "description": f"a generated probe tool of {plugin}",
        "parameters": {"type": "object", "properties": {}},
    }
    ctx.register_tool(names["tool"], "kc_probe", schema, _tool)
    ctx.register_command(names["command"], _command)


def _tool(args: Any, **kwargs: Any) -> str:
    return "{}"


def _command(raw: str) -> str:
    return ""


def _half(ctx: Any, plugin: str) -> None:
    """Register one of every kind, then raise: the runtime must roll all of them back."""
    names = half_names(plugin)
    ctx.register_hook(names["hook"], _session_hook(plugin))
    ctx.register_identity_provider(_provider(plugin))
    ctx.register_background_daemon(names["daemon"], _noop, _noop)
    ctx.register_listener(names["listener"], _noop)
    _dual(ctx, names["dual"])  # with the runtime's dual-registration helper, when it has one
    _tool_and_command(ctx, plugin, names)
    msg = "deliberate failure half-way through register (a generated kora-conformance probe)"
    raise _Refused(msg)


def plugin_functions(plugin: str, real: str, copy: str = "") -> dict[str, Callable[[Any], None]]:
    """The module attributes of the generated plugin ``plugin``: ``register`` and
    ``setup_plugin``, of which ``real`` is the plugin's register function and the other a decoy
    that journals ``decoy`` and registers nothing (a loader calling the wrong one is seen).

    :param copy: which of several same-named copies this is (journalled with ``register``).
    """

    def register_plugin(ctx: Any) -> None:
        journal.record("register", plugin, attribute=real, copy=copy)
        mode = REGISTER.get(plugin, "")
        if mode == "half":
            _half(ctx, plugin)
        if mode.startswith("twin:"):
            _tool_and_command(ctx, plugin, half_names(mode.removeprefix("twin:")))
        if mode == "lifecycle":
            for name, startup, shutdown in LIFECYCLE.get(plugin, ()):
                ctx.register_background_daemon(
                    name, _startup(name, startup), _shutdown(name, shutdown)
                )
        if mode == "late":
            ctx.register_hook(SESSION_HOOK, _registers_late(ctx, plugin))
        if mode == "dual":
            _dual(ctx)
        if mode in {"listeners", "listeners_fatal"}:
            _listeners(ctx, fatal=mode == "listeners_fatal")
        if mode.startswith("exits_periodic"):
            _exits_periodic(ctx, generator=mode.endswith(":generator"))
        if mode.startswith("raw:"):
            ctx.register_hook(IDENTITY_HOOK, _raw_callback(plugin, mode.removeprefix("raw:")))
        if mode.startswith("takes:"):
            ctx.register_background_daemon(mode.removeprefix("takes:"), _noop, _noop)
        if mode == "same_daemon_twice":
            ctx.register_background_daemon(clash_name(plugin), _noop, _noop)
            ctx.register_background_daemon(clash_name(plugin), _noop, _noop)
        if mode == "two_daemons_one_name":
            ctx.register_background_daemon(clash_name(plugin), _noop, _noop)
            ctx.register_background_daemon(clash_name(plugin), _other_noop, _noop)
        ctx.register_identity_provider(_provider(plugin))
        # The callable form's hook is a coroutine function: invoke_hook awaits it (2.3).
        ctx.register_hook(SESSION_HOOK, _session_hook(plugin, is_async=real == "setup_plugin"))

    def decoy(ctx: Any) -> None:
        journal.record("decoy", plugin)

    other = "setup_plugin" if real == "register" else "register"
    return {real: register_plugin, other: decoy}
