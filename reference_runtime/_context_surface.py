"""The Hermes half of ``PluginContext``: the table-driven ``register_*`` methods and the members
upstream plugins use (``llm``, ``dispatch_tool``, ``get_config``/``set_config``/``config``).

Every generated method binds its arguments to the row's signature, runs the row's rules in order
and stages a :class:`~reference_runtime.Registration`. Staged records reach the runtime's store
at commit, with the rest of the plugin's registrations, and leave it again on a rollback (a
record that displaced another puts it back).
"""

from __future__ import annotations

import inspect
import json
import logging
import types
from collections.abc import Callable, Mapping
from typing import Any

from ._context_errors import ContextError, plugin_caller, reads_directly, recorded, where
from ._dispatch import describe_callable
from ._errors import NotRegisteredError, RegistrationError
from ._llm import PluginLLM
from ._plugin_host import PluginHost
from ._registrations import Registration
from ._surface import HERMES_SURFACE, surface_method
from ._surface_rules import SurfaceCall, SurfaceMethod, SurfaceRule

__all__ = ["HermesSurface", "install_surface"]

_log = logging.getLogger("reference_runtime")
_MISSING: Any = object()


class HermesSurface:
    """Mixed into ``PluginContext``; expects its ``name``, ``_runtime``, ``_committed``,
    ``warnings`` and ``manifest``."""

    warnings: list[str]
    _runtime: PluginHost
    _committed: bool

    @property
    def name(self) -> str:
        """The plugin's name (``PluginContext`` defines it)."""
        raise NotImplementedError

    @property
    def manifest(self) -> Any:
        """The plugin's manifest (``PluginContext`` defines it)."""
        raise NotImplementedError

    def _init_surface(self) -> None:
        self._records: list[Registration] = []
        #: What the commit applied, with what each record displaced (and where), for a rollback.
        self._applied_records: list[tuple[Registration, tuple[Registration, int] | None]] = []
        self._written_settings: dict[str, Any] = {}
        self._replaced_settings: dict[str, Any] | None = None
        self._llm: PluginLLM | None = None
        self._errors: list[ContextError] = []

    # --- errors raised to the plugin ---------------------------------------------------------

    @property
    def context_errors(self) -> tuple[ContextError, ...]:
        """Every error this context raised to the plugin's code while ``register`` ran, in
        order. Once ``register`` has returned normally, each was caught by the plugin: it
        carried on without what the call would have registered."""
        return tuple(self._errors)

    def _note_error(self, call: str, exc: BaseException, frame: types.FrameType) -> None:
        error = f"{type(exc).__name__}: {exc}"
        self._errors.append(ContextError(call, error, where(frame)))

    def __getattr__(self, name: str) -> Any:
        # Only reached for a member the context lacks. A plugin reading it directly inside
        # register(ctx) is recorded (hasattr/getattr-with-default probes are not: they expect
        # the error); either way it is an AttributeError, as on any object.
        msg = f"{type(self).__name__!r} object has no attribute {name!r}"
        if not name.startswith("__") and not self.__dict__.get("_committed", True):
            caller = plugin_caller(1)
            if caller is not None and reads_directly(caller):
                self._note_error(f"ctx.{name}", AttributeError(msg), caller)
        raise AttributeError(msg, name=name, obj=self)

    # --- registering ---------------------------------------------------------------------------

    @property
    def registrations(self) -> tuple[Registration, ...]:
        """Every surface registration this plugin made (hooks included), in order."""
        return tuple(self._records)

    def _register(self, method: SurfaceMethod, args: tuple[Any, ...], kwargs: Any) -> Any:
        signature = _signature(method)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            shown = str(signature).replace("(self, ", "(", 1)
            msg = (
                f"plugin {self.name!r}: {method.name}{shown} cannot take these arguments: "
                f"{exc}; pass them as upstream's signature names them"
            )
            raise RegistrationError(msg, plugin=self.name) from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        call = SurfaceCall(method, arguments, self)
        for rule in method.rules:
            detail = _breach(rule, call)
            if detail is None:
                continue
            message = (
                f"plugin {self.name!r}: {call.describe()} breaks rule {rule.id} ({rule.text}): "
                f"{detail}; {rule.fix}"
            )
            if rule.severity == "error":
                raise rule.error(message, plugin=self.name, call=call.describe(), rule=rule.id)
            refused = rule.severity == "refuse"
            self._surface_warning(f"{message} ({'not registered' if refused else 'kept'})")
            if refused:
                return None
        record = Registration(self.name, method.name, method.kind, call.key, arguments)
        self._stage_record(record, displace=method.displaces)
        return record if method.returns is None else method.returns(record)

    def _surface_warning(self, warning: str) -> None:
        _log.warning("%s", warning)
        self.warnings.append(warning)

    def _stage_record(self, record: Registration, *, displace: bool) -> None:
        if displace:  # the same plugin registering a key again: the new one stands
            self._records = [
                r for r in self._records if (r.kind, r.key) != (record.kind, record.key)
            ]
        self._records.append(record)
        if self._committed:
            self._apply_record(record, displace=displace)

    def _apply_record(self, record: Registration, *, displace: bool) -> None:
        displaced = self._runtime.registration_store.add(record, displace=displace)
        self._applied_records.append((record, displaced))

    def _commit_surface(self) -> None:
        for record in self._records:
            self._apply_record(record, displace=_displaces(record))
        settings = self._runtime.settings_by_plugin
        self._replaced_settings = dict(settings.get(self.name, {}))
        settings.setdefault(self.name, {}).update(self._written_settings)

    def _rollback_surface(self) -> None:
        store = self._runtime.registration_store
        for record, displaced in reversed(self._applied_records):
            store.remove(record)
            if displaced is not None:
                store.restore(*displaced)
        self._applied_records.clear()
        if self._replaced_settings is not None:
            self._runtime.settings_by_plugin[self.name] = self._replaced_settings
            self._replaced_settings = None

    # --- what the rules look at (the SurfaceScope protocol) ----------------------------------

    def held(self, kind: str, key: str) -> Registration | None:
        """The registration holding ``key`` among ``kind``: this plugin's first, then the
        runtime's."""
        if not self._committed:
            for record in reversed(self._records):
                if (record.kind, record.key) == (kind, key):
                    return record
        return self._runtime.registration_store.held(kind, key)

    def is_own(self, record: Registration) -> bool:
        """Whether this context made ``record``."""
        return any(r is record for r in self._records)

    def registered(self, kind: str) -> tuple[Registration, ...]:
        """Every registration of ``kind``, the runtime's and then this plugin's staged ones."""
        committed = [r for r in self._runtime.registration_store if r.kind == kind]
        staged = [] if self._committed else [r for r in self._records if r.kind == kind]
        return (*committed, *staged)

    # --- what the plugin registered, as the author-test helpers read it ---------------------

    def _own(self, kind: str, name: str) -> Registration | None:
        return next((r for r in self._records if r.kind == kind and r.key == name), None)

    def tool_names(self) -> list[str]:
        """The tools this plugin registered, in registration order."""
        return [r.key for r in self._records if r.kind == "tool"]

    def tool_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of this plugin's tool ``name``, or ``None``."""
        record = self._own("tool", name)
        return record["handler"] if record is not None else None

    def command_names(self) -> list[str]:
        """The slash commands this plugin registered (without the ``/``), in order."""
        return [r.key for r in self._records if r.kind == "command"]

    def command_handler(self, name: str) -> Callable[..., Any] | None:
        """The handler of this plugin's slash command ``/name``, or ``None``."""
        record = self._own("command", name)
        return record["handler"] if record is not None else None

    def cli_command_names(self) -> list[str]:
        """The ``hermes <name>`` subcommands this plugin registered, in order."""
        return [r.key for r in self._records if r.kind == "cli_command"]

    def cli_command(self, name: str) -> tuple[Callable[..., Any], Callable[..., Any] | None] | None:
        """``(setup_fn, handler_fn)`` of this plugin's subcommand ``name``, or ``None``."""
        record = self._own("cli_command", name)
        return (record["setup_fn"], record["handler_fn"]) if record is not None else None

    def has_capability(self, capability: str) -> bool:
        """Whether the plugin holds ``capability``: the reference grants what the manifest's
        ``capabilities`` list declares (it has no consent step)."""
        declared = getattr(self.manifest, "capabilities", None) or ()
        return capability in declared

    # --- members -------------------------------------------------------------------------------

    @property
    def plugin_id(self) -> str:
        """The plugin's ID (its name)."""
        return self.name

    @property
    def profile_name(self) -> str:
        """The host profile; the reference runtime has one, ``"default"``."""
        return "default"

    def has_plugin(self, plugin_id: str) -> bool:
        """Whether ``plugin_id`` is loaded in this runtime."""
        return self._runtime.is_loaded(plugin_id)

    @property
    def llm(self) -> PluginLLM:
        """Host-owned completions; see :class:`~reference_runtime.PluginLLM`."""
        if self._llm is None:
            self._llm = PluginLLM(self.name, self._runtime)
        return self._llm

    def dispatch_tool(self, name: str, args: Mapping[str, Any], **kwargs: Any) -> str:
        """SurfaceCall the registered tool ``name`` as the host would; always a JSON string.

        An unknown tool, a raising handler or a result that is not a string becomes what the
        host returns the model: ``{"error": ...}``, or the result as JSON.
        """
        try:
            result = self._runtime.call_tool(name, dict(args), **kwargs)
        except NotRegisteredError as exc:
            return json.dumps({"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - a tool failure is the model's to read
            handler = self._runtime.tool(name)
            _log.warning(
                "plugin %r: dispatch_tool(%r) raised %s: %s (in %s)",
                self.name,
                name,
                type(exc).__name__,
                exc,
                describe_callable(handler.handler if handler else None),
            )
            return json.dumps({"error": f"Tool execution failed: {type(exc).__name__}: {exc}"})
        return result if isinstance(result, str) else json.dumps(result, default=str)

    @property
    def config(self) -> Mapping[str, Any]:
        """This plugin's settings, read-only: ``config_schema`` defaults from the manifest,
        then the host's (``Runtime.configure_plugin``), then ``set_config`` writes."""
        schema = getattr(self.manifest, "config_schema", None) or {}
        merged = {
            key: spec["default"]
            for key, spec in schema.items()
            if isinstance(spec, Mapping) and "default" in spec
        }
        merged.update(self._runtime.settings_by_plugin.get(self.name, {}))
        merged.update(self._written_settings)
        return types.MappingProxyType(merged)

    def get_config(self, key: str, default: Any = None) -> Any:
        """The setting ``key`` (``a.b`` walks nested mappings), or ``default``."""
        value: Any = self.config
        for part in key.split("."):
            value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
            if value is _MISSING:
                return default
        return value

    def set_config(self, key: str, value: Any) -> None:
        """Set the setting ``key`` for this plugin. Inside ``register(ctx)`` it is staged like
        a registration (a failed plugin leaves nothing); the reference keeps it in memory."""
        self._written_settings[key] = value
        if self._committed:
            self._runtime.settings_by_plugin.setdefault(self.name, {})[key] = value


def _breach(rule: SurfaceRule, call: SurfaceCall) -> str | None:
    try:
        return rule.check(call)
    except Exception as exc:  # noqa: BLE001 - an odd argument the check did not foresee
        return f"checking it raised {type(exc).__name__}: {exc}"


_SIGNATURES: dict[str, inspect.Signature] = {}


def _signature(method: SurfaceMethod) -> inspect.Signature:
    # Built once per method: every registration binds against it.
    signature = _SIGNATURES.get(method.name)
    if signature is None:
        signature = _SIGNATURES[method.name] = method.signature()
    return signature


def _displaces(record: Registration) -> bool:
    return surface_method(record.method).displaces


def _generated(method: SurfaceMethod) -> Callable[..., Any]:
    def register(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._register(method, args, kwargs)

    register.__name__ = method.name
    register.__qualname__ = f"PluginContext.{method.name}"
    register.__doc__ = method.docstring()
    register.__signature__ = _signature(method)  # type: ignore[attr-defined]
    return register


def install_surface(cls: type[HermesSurface]) -> None:
    """Give ``cls`` one generated method per row of the surface table (hand-written rows are
    the class's own), and make every ``register_*`` method record the errors it raises to the
    plugin (:attr:`HermesSurface.context_errors`)."""
    for method in HERMES_SURFACE:
        if not method.hand_written:
            setattr(cls, method.name, _generated(method))
    for name, member in list(vars(cls).items()):
        wrapped = getattr(member, "_kora_recorded", False)
        if name.startswith("register_") and callable(member) and not wrapped:
            setattr(cls, name, recorded(member))
