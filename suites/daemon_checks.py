"""KC-DM-*: background daemons and dual-registry listeners — shape, signatures, reuse, reloads,
lifecycle and scheduling (contract section 3).

Every check loads the plugin alone into a fresh reference runtime and looks at what it put in the
runtime's two registries: the daemon side (``runtime.daemons``) and the listener side
(``runtime.listeners``, with its periodic tasks). KC-DM-005 and KC-DM-006 run the reference
coordinator in virtual time (:class:`~reference_runtime.VirtualClock`; for KC-DM-005 with the
wall clock moved in step), so hours of schedule cost milliseconds whatever the intervals are:
a few intervals of the longest task, fewer when that would pass :data:`FIRE_BUDGET` fires.
KC-DM-006 also records, with ``sys.setprofile``, which driver each run of a task's callback came
from, so a callback wrapped in a lambda or ``functools.partial`` on the other side, or run by a
loop the listener keeps itself, is seen for what it is.

A plugin's code can still block the event loop for real (``time.sleep``, blocking I/O, a busy
loop). Runs that call the plugin's daemons are therefore guarded by a wall-clock budget: past
:data:`WALL_BUDGET` seconds (more for runs of many fires) the blocked code is interrupted
(``SIGALRM``, in the main thread) and the check reports where it was.

Checks that cannot judge a plugin because an earlier rule is broken skip and name that rule: a
malformed interval (KC-DM-001) would make a virtual run spin at one instant for ever, and a run
that blocks (KC-DM-005) says nothing about scheduling.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib.util
import inspect
import math
import numbers
import re
import signal
import sys
import sysconfig
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

import kora_conformance
import reference_runtime
from kora_conformance._check import CheckContext, Suite, needs_daemons
from kora_conformance._reload import plugin_modules, reload_modules
from reference_runtime import (
    BackgroundDaemonEntry,
    Coordinator,
    DaemonSpecError,
    EventKind,
    ListenerRegistry,
    LoadedPlugin,
    PeriodicTaskSpec,
    PluginContext,
    ResolvedListener,
    Runtime,
    VirtualClock,
    background_daemon_registry,
    listener_registry,
)
from reference_runtime._dispatch import _run_awaitable, describe_callable

suite = Suite("daemons")

#: How many intervals of the longest task a virtual run covers, when the fire budget allows.
CYCLES: Final = 3
#: The most periodic fires a virtual run may cost; fewer cycles are run past it (at least one).
FIRE_BUDGET: Final = 10_000
#: Wall-clock seconds a virtual run may take before the kit interrupts the code blocking it...
WALL_BUDGET: Final = 2.0
#: ...plus this much per periodic fire the run is expected to make (a fire costs ~20 µs), so
#: that a long run over the fire budget is not mistaken for a blocked one.
WALL_PER_FIRE: Final = 1e-4
#: Virtual seconds KC-DM-002 waits for one ``startup`` call to finish before moving on.
STARTUP_WAIT: Final = 60.0
#: Virtual seconds of a run for daemons that have no periodic task.
IDLE_RUN: Final = 60.0

# The daemon side's name rule (contract 3.1), restated so an entry that bypassed it is caught.
_DAEMON_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_GENERATOR_FLAGS: Final = (
    inspect.CO_COROUTINE
    | inspect.CO_GENERATOR
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec is not None and spec.origin else None


# Code that is never the plugin's: where a blocked run was interrupted is reported outside it.
_LIBRARY_CODE: Final = tuple(
    str(Path(p).resolve())
    for p in (
        sysconfig.get_paths()["stdlib"],
        Path(reference_runtime.__file__).parent,
        *(_package_dir(name) for name in ("freezegun", "_pytest", "pluggy")),
    )
    if p is not None
)
_KIT_DIR: Final = Path(kora_conformance.__file__).resolve().parent
#: Plugins shipped inside the kit's package (mutants, probes) are plugin code all the same.
_KIT_PLUGINS: Final = (str(_KIT_DIR / "mutants"), str(_KIT_DIR / "probes"))


# --- what the plugin registered -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Registered:
    """The plugin loaded alone into a fresh runtime, and both sides of what it registered."""

    runtime: Runtime
    plugin: LoadedPlugin

    @property
    def entries(self) -> list[BackgroundDaemonEntry]:
        return self.runtime.daemons.list_entries()

    @property
    def listeners(self) -> ListenerRegistry:
        return self.runtime.listeners

    @property
    def dual(self) -> list[str]:
        """Names on both sides, in daemon registration order."""
        listeners = set(self.listeners.names())
        return [entry.name for entry in self.entries if entry.name in listeners]


def _registered(ctx: CheckContext) -> _Registered:
    runtime, _, plugin = ctx.load()
    return _Registered(runtime, plugin)


def _names(runtime: Runtime) -> tuple[list[str], list[str], list[str]]:
    """Daemon names, listener names and listener-side task names, in registration order."""
    tasks = [task.spec.name for task in runtime.listeners.tasks()]
    return [e.name for e in runtime.daemons.list_entries()], runtime.listeners.names(), tasks


def _seconds_problem(value: object) -> str | None:
    """Why ``value`` is not a finite number of seconds > 0, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{type(value).__name__} {value!r}, not a number"
    if not math.isfinite(float(value)):
        return f"{value!r}, not finite"
    if value <= 0:
        return f"{value!r}, not > 0"
    return None


def _task_problems(task: object, owner: str) -> list[str]:
    if not isinstance(task, PeriodicTaskSpec):
        return [f"{owner}: periodic_task is {type(task).__name__}, not a PeriodicTaskSpec"]
    problems = []
    if (why := _seconds_problem(task.interval_seconds)) is not None:
        problems.append(f"{owner}: periodic task {task.name!r} has interval_seconds {why}")
    name: object = task.name
    if not isinstance(name, str) or not name:
        problems.append(f"{owner}: a periodic task's name is {name!r}, not a non-empty string")
    callback: object = task.callback
    if not callable(callback):
        problems.append(f"{owner}: periodic task {task.name!r} has a callback that is not callable")
    return problems


def _entry_problems(entry: BackgroundDaemonEntry, registered: _Registered) -> list[str]:
    name: object = entry.name
    if not isinstance(name, str) or not _DAEMON_NAME.fullmatch(name):
        return [f"a daemon's name is {name!r}: use ASCII letters, digits, '_', '-' and '.'"]
    owner = f"daemon {name!r}"
    problems = []
    if registered.runtime.daemons.by_name(name) is not entry:
        problems.append(f"{owner} is not the entry registered under its name (renamed after)")
    if (why := _seconds_problem(entry.shutdown_timeout)) is not None:
        problems.append(f"{owner}: shutdown_timeout is {why}")
    for field in ("startup", "shutdown"):
        if not callable(getattr(entry, field)):
            problems.append(f"{owner}: {field} is not callable")
    fatal: object = entry.fatal_on_startup_failure
    if not isinstance(fatal, bool):
        problems.append(f"{owner}: fatal_on_startup_failure is {fatal!r}, not True or False")
    if entry.periodic_task is not None:
        problems += _task_problems(entry.periodic_task, owner)
    return problems


def _listener_problems(registered: _Registered) -> list[str]:
    problems = []
    for name in registered.listeners.names():
        if not name.isidentifier():
            problems.append(f"listener name {name!r} is not a Python identifier")
            continue
        try:
            registered.listeners.resolve(name)
        except DaemonSpecError as exc:
            problems.append(str(exc))
    for task in registered.listeners.tasks():
        owner = f"listener {task.listener!r}" if task.listener else "the listener side"
        problems += _task_problems(task.spec, owner)
    return problems


def _malformed(registered: _Registered) -> list[str]:
    problems = [p for entry in registered.entries for p in _entry_problems(entry, registered)]
    counts = Counter(entry.name for entry in registered.entries)
    problems += [f"daemon name {n!r} is held by {c} entries" for n, c in counts.items() if c > 1]
    return problems + _listener_problems(registered)


def _skip_if_malformed(ctx: CheckContext, registered: _Registered) -> None:
    if _malformed(registered):
        ctx.skip("its daemon entries are malformed (see KC-DM-001)")


# --- blocking code: a wall-clock budget ---------------------------------------------------------


class _Overran(KeyboardInterrupt):
    """Raised by the watchdog into code that blocks the event loop.

    A ``KeyboardInterrupt`` so that neither the coordinator's ``except Exception`` nor asyncio's
    task machinery swallows it: it ends the run wherever it lands.
    """


@dataclasses.dataclass
class _Watch:
    budget: float
    elapsed: float = 0.0
    interrupted: str | None = None

    @property
    def overran(self) -> bool:
        return self.interrupted is not None or self.elapsed > self.budget

    def describe(self) -> str:
        where = self.interrupted or "nowhere in particular (it was merely slow)"
        return (
            f"the run took more than {self.budget:g} s of wall-clock time and was interrupted "
            f"in {where}: something blocks the event loop (a real time.sleep, blocking I/O, a "
            "busy loop, or an await on real time)"
        )


def _is_plugin_code(filename: str) -> bool:
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    if path.startswith(_KIT_PLUGINS):
        return True
    return not path.startswith(_LIBRARY_CODE) and not path.startswith(str(_KIT_DIR))


def _where(frame: types.FrameType | None) -> str:
    """The innermost frame of the plugin's own code, as ``function (file:line)``."""
    current = frame
    while current is not None and current.f_code.co_filename != __file__:
        if _is_plugin_code(current.f_code.co_filename):
            name = getattr(current.f_code, "co_qualname", current.f_code.co_name)
            return f"{name} ({current.f_code.co_filename}:{current.f_lineno})"
        current = current.f_back
    return "the event loop, waiting on real time"


# Held in a tuple: freezegun replaces module attributes that are the real time functions, so a
# plain ``time.perf_counter`` would read the moved wall clock during a virtual run.
_REAL_PERF_COUNTER: Final = (time.perf_counter,)


def _wall_seconds() -> float:
    """Real elapsed seconds, even while the wall clock is moved in virtual time."""
    return _REAL_PERF_COUNTER[0]()


@contextmanager
def _watchdog(budget: float = WALL_BUDGET) -> Iterator[_Watch]:
    """Measure the block's wall time; interrupt it after ``budget`` seconds where possible."""
    watch = _Watch(budget)
    armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous: Any = None
    outer: tuple[float, float] = (0.0, 0.0)
    if armed:

        def interrupt(signum: int, frame: types.FrameType | None) -> None:
            if watch.interrupted is None:
                watch.interrupted = _where(frame)
            raise _Overran

        previous = signal.signal(signal.SIGALRM, interrupt)
        # Repeats, in case the plugin's code swallows the first interrupt. A timer already set
        # (pytest-timeout's signal method, say) is put back afterwards, less the time spent.
        outer = signal.setitimer(signal.ITIMER_REAL, budget, 0.5)
    started = _wall_seconds()
    try:
        yield watch
    except _Overran:
        if watch.interrupted is None:
            watch.interrupted = "the kit's own code"
    finally:
        watch.elapsed = _wall_seconds() - started
        if armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if outer[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, max(outer[0] - watch.elapsed, 0.001), outer[1])


def _run(main: Coroutine[Any, Any, Any]) -> None:
    """``asyncio.run(main)``; if an interrupt left ``main`` suspended, close it so its cleanup
    (the coordinator's ``with clock:``, which stops the moved wall clock) still happens."""
    try:
        asyncio.run(main)
    finally:
        main.close()


# --- virtual runs under the reference coordinator -----------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Driver:
    """A periodic task the coordinator drives: its spec, owner and side."""

    owner: str
    spec: PeriodicTaskSpec
    side: Literal["daemon", "listener"]

    @property
    def label(self) -> str:
        where = "the entry of" if self.side == "daemon" else "the listener side of"
        owner = f"{where} {self.owner!r}" if self.owner else "the listener side"
        return f"task {self.spec.name!r} ({owner}, every {self.spec.interval_seconds:g} s)"


def _drivers(registered: _Registered, started: set[str] | None = None) -> list[_Driver]:
    """The periodic tasks the coordinator schedules (contract 3.3), in its order.

    Entries' tasks first, then listener-side tasks whose listener started, except a task whose
    callback an earlier one already has: a task known to both sides is scheduled once.
    """
    drivers = [
        _Driver(entry.name, entry.periodic_task, "daemon")
        for entry in registered.entries
        if entry.periodic_task is not None and (started is None or entry.name in started)
    ]
    for task in registered.listeners.tasks():
        if task.listener and started is not None and task.listener not in started:
            continue
        if any(task.spec.callback == known.spec.callback for known in drivers):
            continue
        drivers.append(_Driver(task.listener, task.spec, "listener"))
    return drivers


def _fires(horizon: float, interval: float) -> int:
    return math.floor(horizon / interval)


def _horizon(intervals: Sequence[float], every: Sequence[float]) -> float:
    """Virtual seconds to run: :data:`CYCLES` intervals of the longest of ``intervals`` (fewer if
    the fires of ``every`` task would pass :data:`FIRE_BUDGET`), plus half the shortest interval
    so that no fire is due exactly at the end."""
    if not intervals:
        return IDLE_RUN
    longest, margin = max(intervals), min(every) / 2
    for cycles in range(CYCLES, 0, -1):
        horizon = cycles * longest + margin
        if sum(_fires(horizon, i) for i in every) <= FIRE_BUDGET:
            return horizon
    return longest + margin


@dataclasses.dataclass
class _Outcome:
    coordinator: Coordinator
    horizon: float
    watch: _Watch
    error: BaseException | None = None


def _virtual_run(
    registered: _Registered,
    horizon: float,
    *,
    around: Callable[[VirtualClock], Any] | None = None,
    wall_clock: bool = True,
) -> _Outcome:
    """Run the plugin's daemons for ``horizon`` virtual seconds under the reference coordinator.

    :param around: called with the clock; returns a context manager held around the run.
    :param wall_clock: move ``time.time()`` and friends in step with the virtual clock.
    """
    clock = VirtualClock(wall_clock=wall_clock)
    coordinator = registered.runtime.coordinator(clock=clock)
    fires = sum(_fires(horizon, d.spec.interval_seconds) for d in _drivers(registered))
    budget = WALL_BUDGET + fires * WALL_PER_FIRE
    outcome = _Outcome(coordinator, horizon, _Watch(budget))
    # Entered first, the clock moves the wall clock (patching every module, which takes a
    # while) before the budget starts and before ``around`` starts watching.
    watching = around(clock) if around is not None else contextlib.nullcontext()
    with clock, watching, _watchdog(budget) as outcome.watch:
        try:
            _run(coordinator.run(until=horizon))
        except _Overran:
            raise
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a callback is a finding
            outcome.error = exc
    return outcome


def _events(coordinator: Coordinator, *kinds: EventKind) -> list[Any]:
    return [event for event in coordinator.timeline if event.kind in kinds]


def _fail_if(
    ctx: CheckContext, problems: Sequence[str], *, expected: str, context: str = ""
) -> None:
    """Fail with the first problem as what was seen and every problem (and ``context``) below."""
    if not problems:
        return
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    lines = [*problems] if more else []
    ctx.fail(
        expected=expected,
        seen=problems[0] + more,
        detail="\n".join([*lines, context] if context else lines),
    )


# --- KC-DM-001 ----------------------------------------------------------------------------------


@suite.check("KC-DM-001", applies=needs_daemons)
def well_formed_entries(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    problems = _malformed(registered)
    _fail_if(
        ctx,
        problems,
        expected="well-formed daemons: unique valid names, every interval and shutdown "
        "timeout a finite number of seconds > 0 (contract 3.1)",
    )


# --- KC-DM-002 ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Lifecycle:
    """One startup/shutdown pair to call, from either side."""

    label: str
    startup: Callable[..., Any]
    shutdown: Callable[..., Any]
    shutdown_timeout: float


def _lifecycles(registered: _Registered) -> list[_Lifecycle]:
    found = [
        _Lifecycle(f"daemon {e.name!r}", e.startup, e.shutdown, e.shutdown_timeout)
        for e in registered.entries
    ]
    for name in registered.listeners.names():
        try:
            resolved: ResolvedListener = registered.listeners.resolve(name)
        except DaemonSpecError:
            continue  # KC-DM-001 reports it
        if any(resolved.startup == known.startup for known in found):
            continue
        found.append(
            _Lifecycle(
                f"listener {name!r}", resolved.startup, resolved.shutdown, resolved.shutdown_timeout
            )
        )
    return found


#: The three ways a consumer calls ``startup``: (how it reads, positional args, keyword args).
_FORMS: Final = (
    ("startup(coordinator)", True, False),
    ("startup(coordinator=coordinator)", False, True),
    ("startup()", False, False),
)


async def _settle(result: object, clock: VirtualClock, seconds: float) -> None:
    """Await ``result`` if awaitable, for at most ``seconds`` of virtual time; its exception
    propagates, a timeout cancels it quietly."""
    if result is None or not inspect.isawaitable(result):
        return
    task = asyncio.ensure_future(result)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    await asyncio.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
    for future in (task, timer):
        future.cancel()
    await asyncio.gather(task, timer, return_exceptions=True)
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


async def _call_forms(
    lifecycle: _Lifecycle, forms: Sequence[str], coordinator: Coordinator, clock: VirtualClock
) -> dict[str, BaseException | None]:
    """Call the startup in each of ``forms`` (then its shutdown); what each call raised."""
    outcomes: dict[str, BaseException | None] = {}
    for form, positional, keyword in _FORMS:
        if form not in forms:
            continue
        args = (coordinator,) if positional else ()
        kwargs = {"coordinator": coordinator} if keyword else {}
        try:
            await _settle(lifecycle.startup(*args, **kwargs), clock, STARTUP_WAIT)
        except Exception as exc:  # noqa: BLE001 - the plugin's error is the finding
            outcomes[form] = exc
        else:
            outcomes[form] = None
        # Only resetting state between the forms: KC-DM-005 judges shutdowns.
        with contextlib.suppress(Exception):
            await _settle(lifecycle.shutdown(), clock, lifecycle.shutdown_timeout)
    return outcomes


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _bindable(lifecycle: _Lifecycle, problems: list[str]) -> list[str]:
    """The forms ``lifecycle.startup``'s signature accepts; a problem for each it refuses."""
    signature = _signature(lifecycle.startup)
    if signature is None:  # a builtin without a signature: calling it is the only test
        return [form for form, _, _ in _FORMS]
    forms = []
    for form, positional, keyword in _FORMS:
        try:
            signature.bind(
                *((None,) if positional else ()), **({"coordinator": None} if keyword else {})
            )
        except TypeError:
            name = describe_callable(lifecycle.startup)
            problems.append(
                f"{lifecycle.label}: startup {name}{signature} cannot be called as {form}"
            )
        else:
            forms.append(form)
    return forms


@suite.check("KC-DM-002", applies=needs_daemons)
def startup_call_forms(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    problems: list[str] = []
    plan = [(lifecycle, _bindable(lifecycle, problems)) for lifecycle in _lifecycles(registered)]
    clock = VirtualClock()
    coordinator = registered.runtime.coordinator(clock=clock)
    results: list[dict[str, BaseException | None]] = []

    async def call_all() -> None:
        for lifecycle, forms in plan:
            results.append(await _call_forms(lifecycle, forms, coordinator, clock))

    with _watchdog() as watch:
        _run(call_all())
    if watch.overran:
        ctx.skip(f"calling the startups blocked: {watch.describe()} (see KC-DM-005)")
    baseline = _FORMS[0][0]
    for (lifecycle, _), outcomes in zip(plan, results, strict=True):
        signature = _signature(lifecycle.startup)
        for form, error in outcomes.items():
            if error is None:
                continue
            if signature is None and isinstance(error, TypeError):
                problems.append(f"{lifecycle.label}: {form} raised TypeError: {error}")
            elif form != baseline and baseline in outcomes and outcomes[baseline] is None:
                problems.append(
                    f"{lifecycle.label}: {form} raised {type(error).__name__}: {error}, while "
                    f"{baseline} returns normally ({describe_callable(lifecycle.startup)})"
                )
    _fail_if(
        ctx,
        problems,
        expected="every startup callable as startup(coordinator), "
        "startup(coordinator=coordinator) and startup() (contract 3.2)",
    )


# --- KC-DM-003 ----------------------------------------------------------------------------------


def _describe_bound(fn: object) -> str:
    owner = getattr(fn, "__self__", None)
    name = describe_callable(fn)
    if owner is None or isinstance(owner, types.ModuleType):
        return name
    return f"{name} of the {type(owner).__qualname__} instance at {id(owner):#x}"


def _same_bound(a: object, b: object) -> bool:
    """Equal, and when bound methods, bound to the very same instance."""
    return bool(a == b) and getattr(a, "__self__", None) is getattr(b, "__self__", None)


def _reuse_problems(entry: BackgroundDaemonEntry, listeners: ListenerRegistry) -> list[str]:
    name = entry.name
    try:
        first, second = listeners.resolve(name), listeners.resolve(name)
    except DaemonSpecError as exc:
        return [f"listener {name!r}: its factory failed, so nothing can be compared: {exc}"]
    problems = []
    for role in ("startup", "shutdown"):
        daemon_side, listener_side = getattr(entry, role), getattr(first, role)
        if not _same_bound(daemon_side, listener_side):
            problems.append(
                f"{name!r}: the daemon side's {role} is {_describe_bound(daemon_side)}, the "
                f"listener side's is {_describe_bound(listener_side)}"
            )
        elif not _same_bound(listener_side, getattr(second, role)):
            problems.append(
                f"{name!r}: the listener factory returns a different {role} on each call "
                f"({_describe_bound(listener_side)}, then "
                f"{_describe_bound(getattr(second, role))}): it builds a new instance each time"
            )
    starts, stops = (
        getattr(entry.startup, "__self__", None),
        getattr(entry.shutdown, "__self__", None),
    )
    if starts is not None and stops is not None and starts is not stops:
        problems.append(
            f"{name!r}: startup and shutdown are bound to two different instances "
            f"({_describe_bound(entry.startup)}, {_describe_bound(entry.shutdown)})"
        )
    return problems


@suite.check("KC-DM-003", applies=needs_daemons)
def singleton_reuse(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    if not registered.dual:
        ctx.skip("registers no listener on both sides")
    problems = []
    for name in registered.dual:
        entry = registered.runtime.daemons.by_name(name)
        assert entry is not None
        problems += _reuse_problems(entry, registered.listeners)
    _fail_if(
        ctx,
        problems,
        expected="for each listener on both sides, the bound methods of one instance in both "
        "registries, equal under == and with the same __self__ (contract 3.2)",
    )


# --- KC-DM-004 ----------------------------------------------------------------------------------


def _default_names() -> tuple[list[str], list[str]]:
    """What the process defaults hold (fork-style code registers there at import)."""
    return [
        e.name for e in background_daemon_registry().list_entries()
    ], listener_registry().names()


def _describe_names(names: tuple[list[str], list[str], list[str]]) -> str:
    daemons, listeners, tasks = names
    return (
        f"daemons {daemons}, listeners {listeners}, listener-side tasks {tasks}"
        if daemons or listeners or tasks
        else "nothing"
    )


def _register_again(plugin: LoadedPlugin, runtime: Runtime) -> str | None:
    """Run the (reloaded) module's ``register`` into ``runtime`` through a new context, as a
    re-import registering into the live registries would; the error, if any."""
    register = getattr(plugin.module, "register", None) if plugin.module is not None else None
    if not callable(register):
        return None
    context = PluginContext(plugin.manifest, runtime)
    try:
        outcome = register(context)
        if inspect.isawaitable(outcome):
            _run_awaitable(outcome)
        context._commit()
    except Exception as exc:  # noqa: BLE001 - the plugin's error is the finding
        return f"{type(exc).__name__}: {exc}"
    return None


@suite.check("KC-DM-004", applies=needs_daemons)
def reload_safe_registration(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    runtime, plugin = registered.runtime, registered.plugin
    before, defaults_before = _names(runtime), _default_names()
    modules = plugin_modules(plugin)
    reloaded = ", ".join(m.__name__ for m in modules)
    expected = f"exactly the registrations of the first load ({_describe_names(before)})"
    try:
        reload_modules(modules)
    except Exception as exc:  # noqa: BLE001 - any error from the plugin's code is the finding
        ctx.fail(
            expected="importlib.reload of the plugin's modules to succeed",
            seen=f"reloading {reloaded} raised {type(exc).__name__}: {exc}",
        )
    defaults_after = _default_names()
    if defaults_after != defaults_before:
        ctx.fail(
            expected="the reload to register nothing new in the process-default registries",
            seen=f"before: daemons {defaults_before[0]}, listeners {defaults_before[1]}; after "
            f"reloading {reloaded}: daemons {defaults_after[0]}, listeners {defaults_after[1]}",
        )
    fresh = ctx.runtime()
    report = fresh.load()
    if report.plugin(ctx.target.name) is None:
        why = report.errors.get(ctx.target.name, "it was not found")
        ctx.fail(
            expected="registering again into a fresh runtime after the reload to succeed",
            seen=f"it failed: {why}",
            detail=f"reloaded: {reloaded}",
        )
    if (after := _names(fresh)) != before:
        ctx.fail(
            expected=expected,
            seen=f"after reloading {reloaded}, a fresh runtime got {_describe_names(after)}",
            detail="state kept outside the reloaded module (a submodule, a counter, a "
            "class attribute of another module) changed what register() registers",
        )
    if (error := _register_again(plugin, runtime)) is not None:
        ctx.fail(
            expected="registering again into the same runtime after the reload to be a no-op",
            seen=f"it raised {error}",
            detail="the same daemon registered again must compare equal: define its callbacks "
            "at module level or as methods of the listener's process-wide instance, not as "
            "lambdas or nested functions",
        )
    if (again := _names(runtime)) != before:
        ctx.fail(
            expected=expected,
            seen=f"after reloading {reloaded} and registering again into the same runtime: "
            f"{_describe_names(again)}",
        )


# --- KC-DM-005 ----------------------------------------------------------------------------------


def _fire_problems(outcome: _Outcome, drivers: Sequence[_Driver]) -> list[str]:
    coordinator, horizon = outcome.coordinator, outcome.horizon
    expected: Counter[str] = Counter()
    intervals: dict[str, float] = {}
    for driver in drivers:
        expected[driver.spec.name] += _fires(horizon, driver.spec.interval_seconds)
        intervals[driver.spec.name] = min(
            intervals.get(driver.spec.name, math.inf), driver.spec.interval_seconds
        )
    counts = coordinator.fire_counts()
    problems = []
    for name, n in expected.items():
        seen = counts.get(name, 0)
        if seen != n:
            fires = [
                e
                for e in _events(coordinator, EventKind.FIRE_OK, EventKind.FIRE_FAILED)
                if e.task == name
            ]
            failed = [e for e in fires if e.kind is EventKind.FIRE_FAILED]
            why = f"; its last failure: {failed[-1].detail}" if failed else ""
            if seen < n and fires and fires[-1].at < horizon - 2 * intervals[name]:
                why += (
                    f"; it stopped firing after t={fires[-1].at:g} s (a callback that never "
                    "returns, or lets a BaseException such as CancelledError escape, ends its "
                    "driver)"
                )
            elif seen < n:
                why += "; a callback that awaits time of its own delays its driver"
            problems.append(
                f"task {name!r} (every {intervals[name]:g} s) fired {seen} times in "
                f"{horizon:g} s, expected {n}{why}"
            )
    for event in _events(coordinator, EventKind.FIRE_OK, EventKind.FIRE_FAILED):
        interval = intervals.get(event.task)
        if interval is not None and event.at < interval - 1e-9:
            problems.append(f"task {event.task!r} fired at t={event.at:g} s, before one interval")
            break
    return problems


def _lifecycle_problems(outcome: _Outcome) -> list[str]:
    coordinator = outcome.coordinator
    problems = [
        f"startup of {e.daemon!r} raised {e.detail}" + (" (fatal)" if e.fatal else "")
        for e in _events(coordinator, EventKind.STARTUP_FAILED)
    ]
    if coordinator.exit_status != 0 and not problems:
        problems.append(f"the run exited with status {coordinator.exit_status}")
    problems += [
        f"shutdown of {e.daemon!r}: {e.detail}"
        for e in _events(coordinator, EventKind.SHUTDOWN_TIMEOUT, EventKind.SHUTDOWN_FAILED)
    ]
    started = [e.daemon for e in _events(coordinator, EventKind.STARTUP_OK)]
    stopped = {e.daemon for e in coordinator.timeline if e.kind.value.startswith("shutdown_")}
    problems += [
        f"{name!r} started but was never shut down" for name in started if name not in stopped
    ]
    return problems


def _summary(outcome: _Outcome) -> str:
    counts = ", ".join(f"{k}={v}" for k, v in outcome.coordinator.fire_counts().items())
    kinds = Counter(e.kind.value for e in outcome.coordinator.timeline)
    return (
        f"virtual run of {outcome.horizon:g} s in {outcome.watch.elapsed:.3f} s wall time; "
        f"fires: {counts or 'none'}; events: {dict(kinds)}"
    )


@suite.check("KC-DM-005", applies=needs_daemons)
def lifecycle_in_virtual_time(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    _skip_if_malformed(ctx, registered)
    every = [d.spec.interval_seconds for d in _drivers(registered)]
    outcome = _virtual_run(registered, _horizon(every, every))
    expected = (
        "startups that complete, each periodic task fired once per interval from one interval "
        "on (raising or not), and shutdowns within their timeouts, with exit status 0 "
        "(contract 3.3)"
    )
    if outcome.watch.overran:
        ctx.fail(expected=expected, seen=outcome.watch.describe(), detail=_summary(outcome))
    if outcome.error is not None:
        ctx.fail(
            expected=expected,
            seen=f"the run was ended by {type(outcome.error).__name__}: {outcome.error} raised "
            "from the plugin's daemons",
            detail=_summary(outcome),
        )
    problems = _lifecycle_problems(outcome)
    started = {e.daemon for e in _events(outcome.coordinator, EventKind.STARTUP_OK)}
    problems += _fire_problems(outcome, _drivers(registered, started))
    if outcome.coordinator.abandoned:
        problems.append(
            f"{len(outcome.coordinator.abandoned)} shutdown(s) ignored cancellation and were "
            "left running"
        )
    detail = _summary(outcome)
    if attempts := ctx.sandbox.network.attempts:
        detail += f"\nthe kit blocks the network; {len(attempts)} attempt(s): {', '.join(attempts)}"
    _fail_if(ctx, problems, expected=expected, context=detail)


# --- KC-DM-006 ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Key:
    """What identifies a callback's work while it runs: its code and, for a method, its
    instance."""

    code: types.CodeType
    instance: int | None


def _key(callback: object) -> _Key | None:
    target = callback
    while isinstance(target, functools.partial):
        target = target.func
    instance: object = None
    if inspect.ismethod(target):
        instance, target = target.__self__, target.__func__
    code = getattr(target, "__code__", None)
    if not isinstance(code, types.CodeType):
        code = getattr(inspect.getattr_static(type(target), "__call__", None), "__code__", None)
        instance = target
        if not isinstance(code, types.CodeType):
            return None
    return _Key(code, None if instance is None else id(instance))


@dataclasses.dataclass
class _Call:
    at: float
    driver: _Driver | None  # None: not directly under a coordinator driver
    nested: bool  # called by a named function under a driver (another task's own work)


_DRIVE_CODE: Final = Coordinator._drive.__code__


class _CallRecorder:
    """Records, with ``sys.setprofile``, each time a watched callback starts running, the virtual
    time and which driver ran it. A driver "runs" a callback when only lambdas (or
    ``functools.partial``, which has no frame) stand between them."""

    def __init__(self, drivers: Sequence[_Driver], clock: VirtualClock) -> None:
        self._clock = clock
        self._by_spec = {id(d.spec): d for d in drivers}
        self._keys: dict[types.CodeType, list[_Key]] = {}
        for driver in drivers:
            key = _key(driver.spec.callback)
            if key is not None and key not in self._keys.get(key.code, []):
                self._keys.setdefault(key.code, []).append(key)
        self.calls: dict[_Key, list[_Call]] = {}
        self._resumable: list[types.FrameType] = []  # kept alive so their ids stay unique
        self._seen: set[int] = set()

    def _attribute(self, frame: types.FrameType) -> tuple[_Driver | None, bool]:
        caller, thin = frame.f_back, True
        for _ in range(64):
            if caller is None:
                break
            if caller.f_code is _DRIVE_CODE:
                return self._by_spec.get(id(caller.f_locals.get("spec"))), not thin
            if caller.f_code.co_name != "<lambda>":
                thin = False
            caller = caller.f_back
        return None, False

    def _profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        keys = self._keys.get(frame.f_code)
        if keys is None:
            return
        code = frame.f_code
        if code.co_flags & _GENERATOR_FLAGS:
            if id(frame) in self._seen:
                return  # a coroutine resuming, not a new call
            self._seen.add(id(frame))
            self._resumable.append(frame)
        instance = None
        if code.co_argcount:
            instance = id(frame.f_locals.get(code.co_varnames[0]))
        key = next((k for k in keys if k.instance is None or k.instance == instance), None)
        if key is None:
            return
        driver, nested = self._attribute(frame)
        self.calls.setdefault(key, []).append(_Call(self._clock.now(), driver, nested))

    @contextmanager
    def recording(self) -> Iterator[None]:
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            yield
        finally:
            try:
                sys.setprofile(previous)
            except TypeError:  # a C profiler (cProfile) cannot be put back from Python
                sys.setprofile(None)
            self._resumable.clear()


def _double_problems(
    drivers: Sequence[_Driver], recorder: _CallRecorder, horizon: float, dual: set[str]
) -> list[str]:
    problems = []
    daemon_side = [d for d in drivers if d.side == "daemon"]
    for listener_driver in (d for d in drivers if d.side == "listener"):
        twin = next((d for d in daemon_side if d.spec.name == listener_driver.spec.name), None)
        if twin is not None:
            problems.append(
                f"{listener_driver.label} has the name of {twin.label}: both are scheduled, so "
                f"{twin.spec.name!r} fires twice per interval"
            )
    done: set[_Key] = set()
    for driver in drivers:
        key = _key(driver.spec.callback)
        if key is None or key in done:
            continue  # a partial of the same callback: its runs were judged with the first
        done.add(key)
        calls = [c for c in recorder.calls.get(key, []) if 0 < c.at < horizon and not c.nested]
        own = sum(1 for c in calls if c.driver is driver)
        others = Counter(
            c.driver.label for c in calls if c.driver is not None and c.driver.side != driver.side
        )
        outside = sum(1 for c in calls if c.driver is None)
        name = describe_callable(driver.spec.callback)
        for label, n in others.items():
            problems.append(
                f"{name}, {driver.label}, also runs from {label}: {own + n} runs in "
                f"{horizon:g} s of virtual time, {n} of them from the other side"
            )
        if outside and driver.side == "daemon" and driver.owner in dual:
            problems.append(
                f"{name}, {driver.label}, also ran {outside} times outside the coordinator's "
                "drivers (a schedule the listener keeps itself?) while its entry's driver ran "
                f"it {own} times in {horizon:g} s"
            )
    return problems


@suite.check("KC-DM-006", applies=needs_daemons)
def no_double_scheduling(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    dual = set(registered.dual)
    if not dual and not registered.listeners.tasks():
        ctx.skip("registers no listener on both sides")
    if not any(entry.periodic_task is not None for entry in registered.entries):
        ctx.skip("registers no periodic task on the daemon side")
    _skip_if_malformed(ctx, registered)
    drivers = _drivers(registered)
    shared = [d.spec.interval_seconds for d in drivers if d.side == "listener" or d.owner in dual]
    every = [d.spec.interval_seconds for d in drivers]
    horizon = _horizon(shared or every, every)
    recorders: list[_CallRecorder] = []

    def record(clock: VirtualClock) -> Any:
        recorders.append(_CallRecorder(drivers, clock))
        return recorders[-1].recording()

    # Who calls a callback does not depend on the wall clock: leaving it alone spares the cost
    # of moving it at every step, which the call recorder would multiply.
    outcome = _virtual_run(registered, horizon, around=record, wall_clock=False)
    if outcome.watch.overran or outcome.error is not None:
        ctx.skip("the virtual run did not complete (see KC-DM-005)")
    problems = _double_problems(drivers, recorders[0], horizon, dual)
    _fail_if(
        ctx,
        problems,
        expected="each periodic task known to both sides fired once per interval, by one "
        "driver (contract 3.2)",
        context=_summary(outcome),
    )


# --- KC-DM-007 ----------------------------------------------------------------------------------


def _bound(fn: object) -> bool:
    owner = getattr(fn, "__self__", None)
    return owner is not None and not isinstance(owner, (types.ModuleType, type))


def _is_pure_periodic(entry: BackgroundDaemonEntry) -> bool:
    """A periodic task whose startup and shutdown belong to no instance: nothing to hold state
    between them, so nothing a listener-side consumer could start."""
    return entry.periodic_task is not None and not (_bound(entry.startup) or _bound(entry.shutdown))


@suite.check("KC-DM-007", applies=needs_daemons)
def honest_shapes(ctx: CheckContext) -> None:
    registered = _registered(ctx)
    listener_names = set(registered.listeners.names())
    owned: dict[str, list[PeriodicTaskSpec]] = {}
    for task in registered.listeners.tasks():
        if task.listener:
            owned.setdefault(task.listener, []).append(task.spec)
    pure = [e for e in registered.entries if _is_pure_periodic(e)]
    multi = [
        e for e in registered.entries if e.name in listener_names and len(owned.get(e.name, [])) > 1
    ]
    if not pure and not multi:
        ctx.skip("registers no pure-periodic daemon and no multi-task listener")
    problems = [
        f"pure-periodic daemon {e.name!r} (startup {describe_callable(e.startup)}, shutdown "
        f"{describe_callable(e.shutdown)}) is also on the listener side"
        for e in pure
        if e.name in listener_names
    ]
    for entry in multi:
        tasks = owned[entry.name]
        names = ", ".join(repr(t.name) for t in tasks)
        primary = entry.periodic_task
        if primary is None:
            problems.append(
                f"multi-task listener {entry.name!r} ({len(tasks)} tasks: {names}): its entry "
                "carries no periodic task, so a daemon-side consumer runs none of them"
            )
        elif not any(primary is t or primary.callback == t.callback for t in tasks):
            problems.append(
                f"multi-task listener {entry.name!r}: its entry carries task {primary.name!r}, "
                f"which is not one of its listener-side tasks ({names})"
            )
    _fail_if(
        ctx,
        problems,
        expected="pure-periodic daemons on the daemon side only, and each multi-task "
        "listener's entry carrying exactly one of its tasks, the primary (contract 3.2)",
    )
