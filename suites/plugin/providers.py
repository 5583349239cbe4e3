"""KC-PL-021: the backends a plugin registers, as the host reads them.

A provider (web search, browser, image and video generation, speech, transcription, secret
source, context engine, memory, ...) and a messaging platform are registered once and then read
by the host over and over: it keys the provider by its ``name``, takes it only if it is an
instance of the host's base class for its kind, and asks ``is_available()`` (a platform:
``check_fn()``) at agent start and on every ``hermes tools`` paint, where upstream's base
classes say it must be a cheap local check: no network, no raise. This check reads those three
things the way the host does, with the network blocked, each call bounded like a handler call.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from typing import Any, Final

from kora_conformance import CheckContext, Profile, Suite, needs_load
from kora_conformance.suites.plugin._bounded import BoundedCalls
from reference_runtime import HERMES_SURFACE, PROVIDER_OBJECTS, Registration, describe_callable

suite = Suite("providers")

#: The kinds whose registered object the host reads again after registration: each provider
#: kind of the surface (the parameter that takes the object, by kind), and platforms.
_OBJECT_PARAM: Final = PROVIDER_OBJECTS
BACKEND_KINDS: Final = (*_OBJECT_PARAM, "platform")
#: The host's base class for a kind, where it checks one (``"module:Class"``).
_BASES: Final = {m.kind: m.host_base for m in HERMES_SURFACE if m.host_base is not None}
#: Kinds the host keys by the object's ``name`` (a context reference is keyed by its prefix).
_NAMED: Final = frozenset(_OBJECT_PARAM) - {"context_reference"}


def needs_backends(profile: Profile) -> str | None:
    """Skip plugins that register no provider and no platform."""
    if (reason := needs_load(profile)) is not None:
        return reason
    if profile.count(*BACKEND_KINDS):
        return None
    return "registers no provider (web search, speech, memory, ...) and no platform"


def host_base(path: str) -> type[Any] | None:
    """The host's class ``path`` names (``"module:Class"``); ``None`` when the host is not
    installed (or lacks it), and then a class is recognised by its qualified name."""
    module, _, name = path.partition(":")
    try:
        found = getattr(importlib.import_module(module), name, None)
    except Exception:  # noqa: BLE001 - absent, or a host module that fails to import: by name
        return None
    return found if isinstance(found, type) else None


def is_instance_of(obj: object, path: str) -> bool:
    """Whether ``obj`` is an instance of the host's class ``path`` (see :func:`host_base`)."""
    base = host_base(path)
    if base is not None:
        return isinstance(obj, base)
    module, _, name = path.partition(":")
    return any(c.__module__ == module and c.__qualname__ == name for c in type(obj).__mro__)


def _name_problem(label: str, obj: object) -> str | None:
    try:
        name = obj.name  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the finding
        return f"{label}: reading its name raised {type(exc).__name__}: {exc}"
    if not isinstance(name, str) or not name.strip():
        return (
            f"{label}: its name is {name!r}; the host keys providers by a non-empty string "
            "name (upstream's registry refuses any other with ValueError)"
        )
    return None


def _availability(record: Registration) -> tuple[str, Any] | None:
    """The cheap check the host calls on ``record``'s object: its name and the callable."""
    if record.kind == "platform":
        return "check_fn()", record["check_fn"]
    method = getattr(record[_OBJECT_PARAM[record.kind]], "is_available", None)
    return ("is_available()", method) if callable(method) else None


def _backends(ctx: CheckContext) -> Iterator[Registration]:
    runtime, _, _ = ctx.load()
    for record in runtime.registrations(ctx.target.name):
        if record.kind in BACKEND_KINDS:
            yield record


@suite.check("KC-PL-021", applies=needs_backends)
def backends_read_as_the_host_reads_them(ctx: CheckContext) -> None:
    """Space: every provider (each ``register_*_provider`` kind, the secret source, the context
    engine, the memory provider, the context reference) and every platform the plugin
    registers. For each: an instance of the host's base class for its kind where the host
    checks one (the class itself when the host is installed, its qualified name otherwise); a
    non-empty string ``name`` where the host keys by it; and ``is_available()`` (a platform's
    ``check_fn()``), called once as the host calls it, sync or async, returning without a raise
    and without a network attempt from its own thread or a thread it starts."""
    problems = []
    calls = BoundedCalls.for_check(ctx)
    network = ctx.sandbox.network
    for record in _backends(ctx):
        label = f"{record.kind.replace('_', ' ')} {record.key!r}"
        obj = (
            record["check_fn"] if record.kind == "platform" else record[_OBJECT_PARAM[record.kind]]
        )
        base = _BASES.get(record.kind)
        if base is not None and not is_instance_of(obj, base):
            problems.append(
                f"{label}: {type(obj).__module__}.{type(obj).__qualname__} is not an instance "
                f"of {base.replace(':', '.')}; upstream ignores the registration (with a warning)"
            )
            continue
        if record.kind in _NAMED and (problem := _name_problem(label, obj)) is not None:
            problems.append(problem)
            continue
        available = _availability(record)
        if available is None:
            continue
        what, fn = available
        running = {t.ident for t in threading.enumerate() if t.ident is not None}
        mark = len(network.attempts)
        call = calls.call(f"{label} {what}", fn, probe=False)
        if call is None:
            continue
        attempts = network.attempts_since(mark, not_in=running)
        if attempts:
            problems.append(
                f"{label}: {what} ({describe_callable(fn)}) attempted the network "
                f"({', '.join(attempts)}); the host calls it at start and on every tools "
                "listing, and its base class says it is a local check"
            )
        elif call.error is not None:
            problems.append(f"{label}: {what} ({describe_callable(fn)}) raised {call.error_text()}")
    ctx.fail_if(
        problems,
        expected="each provider an instance of the host's base class for its kind, named by a "
        "non-empty string, and its is_available() (a platform's check_fn()) a local check that "
        "returns without raising",
        detail="\n".join(calls.unjudged),
    )
    if calls.unjudged:
        ctx.note("; ".join(calls.unjudged))
