"""The runtime adapter: how the kit drives a runtime it certifies (protocol version 1).

A fork certifies its runtime by giving the kit a factory, ``--kora-runtime module:factory``,
that returns a :class:`RuntimeAdapter`. The adapter starts one fresh runtime per check
(:meth:`RuntimeAdapter.start`) from a :class:`LoadSpec`: which plugins to enable, in which
order, where to find them. The kit's probe plugins do the observing (they record what the
runtime does to them), so the adapter stays small: load, resolve, build and send, run daemons,
report. :func:`reference_adapter` is the adapter for this project's reference runtime; read it
as the worked example.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol, cast, runtime_checkable

__all__ = [
    "ADAPTER_PROTOCOL_VERSION",
    "IdentityOutcome",
    "LoadSpec",
    "ReferenceAdapter",
    "RuntimeAdapter",
    "RuntimeSession",
    "load_adapter",
    "reference_adapter",
]

#: The version of this protocol; an adapter declares the one it implements.
ADAPTER_PROTOCOL_VERSION: Final = 1


@dataclasses.dataclass(frozen=True)
class LoadSpec:
    """What one runtime instance must load.

    :param enabled: ``plugins.enabled``, in order (precedence order).
    :param plugin_dirs: directories of directory plugins (``<dir>/<name>/plugin.yaml``).
    :param entry_point_groups: entry-point groups to search; the kit puts probe distributions on
        ``sys.path`` for the runtime to find through ``importlib.metadata``.
    :param default_system_prompt_path: the runtime's default fallback prompt file, which the
        adapter must make the runtime use for this instance.
    """

    enabled: tuple[str, ...]
    plugin_dirs: tuple[Path, ...] = ()
    entry_point_groups: tuple[str, ...] = ()
    default_system_prompt_path: Path = Path("/nonexistent/kora_system_prompt.md")


@dataclasses.dataclass(frozen=True)
class IdentityOutcome:
    """The identity a runtime resolved, and where it came from.

    :param source: ``plugin`` or ``file``; ``None`` when the runtime cannot say.
    :param plugin: the winning plugin's name, when the runtime reports it.
    :param path: the fallback file read, when the runtime reports it.
    """

    system_prompt: str
    persona: str = ""
    source: Literal["plugin", "file"] | None = None
    plugin: str | None = None
    path: Path | None = None


@runtime_checkable
class RuntimeSession(Protocol):
    """One loaded runtime instance."""

    @property
    def loaded(self) -> Sequence[str]:
        """Names of the plugins that loaded, in load order."""
        ...

    @property
    def load_errors(self) -> Mapping[str, str]:
        """Plugin name → why it failed to load."""
        ...

    def invoke_hook(self, name: str, **kwargs: Any) -> list[Any]:
        """Call hook ``name``; return the non-None results in order."""
        ...

    def resolve_identity(self, *, system_prompt_path: Path | None = None) -> IdentityOutcome:
        """Resolve the identity as engine construction would; raise when nothing is usable."""
        ...

    def build_engine(self, *, system_prompt_path: Path | None = None) -> object:
        """Construct the reasoning engine (which resolves the identity); no credentials needed.

        Return the very object identity providers receive as ``engine=`` (KC-RT-008 compares
        them by identity), not a wrapper around it.
        """
        ...

    def send(self, engine: object, text: str) -> None:
        """Send one Messages API request through ``engine``; the kit sets ``ANTHROPIC_API_KEY``
        and intercepts the request, so the runtime must use the ``anthropic`` SDK."""
        ...

    def daemon_names(self) -> Sequence[str]:
        """Daemon-side entry names, in registration order."""
        ...

    def listener_names(self) -> Sequence[str]:
        """Listener-side names."""
        ...

    def run_daemons(self, seconds: float) -> int:
        """Run the coordinator for ``seconds`` of virtual time, shut down, return the exit
        status (0, or non-zero after a fatal startup failure).

        A process-level exception from plugin code (``SystemExit``, ``KeyboardInterrupt``,
        ...) is a fatal failure of its daemon (contract 3.3): return the exit status the run
        ends with (1), do not propagate the exception.

        The kit calls it from a worker thread, so that it can give up on a run that never
        returns: start a fresh event loop (``asyncio.run``) and install no signal handlers.
        Daemons stamp their journal with ``time.time()``; a virtual clock that moves it too
        (as the reference adapter's does) lets the kit check timeouts in clock seconds.
        """
        ...

    def close(self) -> None:
        """Release the instance."""
        ...


@runtime_checkable
class RuntimeAdapter(Protocol):
    """A runtime the kit can certify."""

    name: str
    version: str
    protocol_version: int

    def start(self, spec: LoadSpec) -> RuntimeSession:
        """Create a fresh runtime instance and load ``spec`` into it."""
        ...


class _ReferenceSession:
    def __init__(self, runtime: Any, engine_class: type[Any] | None = None) -> None:
        self.runtime = runtime
        self.engine_class = engine_class
        self.report = runtime.load()

    @property
    def loaded(self) -> Sequence[str]:
        return [plugin.key for plugin in self.report.loaded]

    @property
    def load_errors(self) -> Mapping[str, str]:
        return dict(self.report.errors)

    def invoke_hook(self, name: str, **kwargs: Any) -> list[Any]:
        result: list[Any] = self.runtime.invoke_hook(name, **kwargs)
        return result

    def resolve_identity(self, *, system_prompt_path: Path | None = None) -> IdentityOutcome:
        return _outcome(self.runtime.resolve_identity(system_prompt_path=system_prompt_path))

    def build_engine(self, *, system_prompt_path: Path | None = None) -> object:
        from reference_runtime import ReasoningEngine  # noqa: PLC0415

        engine_class = self.engine_class or ReasoningEngine
        engine: object = engine_class(self.runtime, system_prompt_path=system_prompt_path)
        return engine

    def send(self, engine: object, text: str) -> None:
        engine.send(text)  # type: ignore[attr-defined]

    def daemon_names(self) -> Sequence[str]:
        return [entry.name for entry in self.runtime.daemons.list_entries()]

    def listener_names(self) -> Sequence[str]:
        names: list[str] = self.runtime.listeners.names()
        return names

    def run_daemons(self, seconds: float) -> int:
        from reference_runtime import VirtualClock  # noqa: PLC0415

        coordinator = self.runtime.coordinator(clock=VirtualClock(wall_clock=True))
        try:
            status: int = asyncio.run(coordinator.run(until=seconds))
        except (SystemExit, KeyboardInterrupt, GeneratorExit):
            # Plugin code's process-level exception, which the coordinator re-raises for the
            # embedding program once every daemon is down; the status is the run's own.
            return int(coordinator.exit_status)
        return status

    def close(self) -> None:
        return None


def _outcome(resolved: Any) -> IdentityOutcome:
    return IdentityOutcome(
        system_prompt=resolved.spec.system_prompt_content,
        persona=resolved.spec.soul_md_content,
        source=resolved.source,
        plugin=resolved.plugin,
        path=resolved.path,
    )


class ReferenceAdapter:
    """The adapter for :mod:`reference_runtime`.

    :param runtime_class: the runtime class to instantiate; a subclass lets tests certify a
        deliberately broken variant through the same adapter.
    :param engine_class: the reasoning engine class :meth:`RuntimeSession.build_engine`
        constructs (``engine_class(runtime, system_prompt_path=...)``); a
        :class:`~reference_runtime.ReasoningEngine` subclass, for the same purpose.
    """

    protocol_version = ADAPTER_PROTOCOL_VERSION

    def __init__(
        self,
        runtime_class: type[Any] | None = None,
        *,
        name: str = "",
        engine_class: type[Any] | None = None,
    ) -> None:
        import reference_runtime  # noqa: PLC0415

        self.runtime_class = runtime_class or reference_runtime.Runtime
        self.engine_class = engine_class
        self.name = name or "reference_runtime"
        self.version = reference_runtime.__version__

    def start(self, spec: LoadSpec) -> RuntimeSession:
        from reference_runtime import RuntimeConfig  # noqa: PLC0415

        config = RuntimeConfig(
            enabled=spec.enabled,
            plugin_dirs=spec.plugin_dirs,
            entry_point_groups=spec.entry_point_groups,
            default_system_prompt_path=spec.default_system_prompt_path,
        )
        return _ReferenceSession(self.runtime_class(config), self.engine_class)


def reference_adapter() -> RuntimeAdapter:
    """The factory for ``--kora-runtime kora_conformance:reference_adapter``."""
    return ReferenceAdapter()


def load_adapter(spec: str, cwd: Path | None = None) -> RuntimeAdapter:
    """Import ``module:factory`` and call the factory.

    Like ``python -m``, the module may live in ``cwd`` (the directory pytest was started in):
    the ``pytest`` script alone does not put it on ``sys.path``.

    :raises TargetError: the spec is malformed, the import fails, the named object is not
        callable, the factory raises, or its result is not a :class:`RuntimeAdapter` of this
        protocol version.
    """
    from kora_conformance._errors import TargetError  # noqa: PLC0415

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        msg = f"--kora-runtime {spec!r} must be 'module:factory', e.g. mypkg.kora:adapter"
        raise TargetError(msg)
    added = cwd is not None and str(cwd) not in sys.path
    if added:
        sys.path.insert(0, str(cwd))
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (Exception, SystemExit) as exc:
        if added:
            sys.path.remove(str(cwd))
        msg = f"--kora-runtime {spec!r}: cannot import the factory ({type(exc).__name__}: {exc})"
        raise TargetError(msg) from exc
    if not callable(factory):
        msg = (
            f"--kora-runtime {spec!r} names a {type(factory).__name__}, not a factory; point it "
            "at a callable that returns a RuntimeAdapter"
        )
        raise TargetError(msg)
    try:
        adapter = factory()
    except (Exception, SystemExit) as exc:
        msg = f"--kora-runtime {spec!r}: the factory raised {type(exc).__name__}: {exc}"
        raise TargetError(msg) from exc
    try:
        ok = isinstance(adapter, RuntimeAdapter)
        protocol, name, version = (
            (adapter.protocol_version, adapter.name, adapter.version) if ok else (0, "", "")
        )
    except (Exception, SystemExit) as exc:
        msg = (
            f"--kora-runtime {spec!r}: reading the adapter's name, version and "
            f"protocol_version raised {type(exc).__name__}: {exc}"
        )
        raise TargetError(msg) from exc
    if not ok:
        msg = (
            f"--kora-runtime {spec!r} returned {type(adapter).__name__}, which lacks the "
            "RuntimeAdapter attributes (name, version, protocol_version, start)"
        )
        raise TargetError(msg)
    if protocol != ADAPTER_PROTOCOL_VERSION:
        msg = (
            f"--kora-runtime {spec!r} implements adapter protocol {protocol!r}; "
            f"this kit speaks version {ADAPTER_PROTOCOL_VERSION}"
        )
        raise TargetError(msg)
    if not isinstance(name, str) or not name or not isinstance(version, str):
        msg = (
            f"--kora-runtime {spec!r}: the adapter's name ({name!r}) must be a non-empty string "
            f"and its version ({version!r}) a string"
        )
        raise TargetError(msg)
    return cast("RuntimeAdapter", adapter)
