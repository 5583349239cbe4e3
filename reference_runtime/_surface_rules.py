"""The building blocks of the surface table: the types of a row and its rules, and rule factories.

A rule is data: an ID, the sentence the docs print, what breaking it means (``severity``), the
exception it raises, the fix, and a check that looks at one call and returns what is wrong with
it (or ``None``). :mod:`reference_runtime._surface` assembles rows from these.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal, Protocol

from ._errors import RegistrationRuleError
from ._registrations import Registration

__all__ = [
    "Severity",
    "SurfaceCall",
    "SurfaceMethod",
    "SurfaceParam",
    "SurfaceRule",
    "SurfaceScope",
    "callable_arg",
    "instance_arg",
    "reserved",
    "string_arg",
    "unique",
]

#: ``error``: the call raises and, inside ``register(ctx)``, the plugin fails to load (rolled
#: back). ``refuse``: a WARNING, and the call is dropped (the plugin still loads). ``warn``: a
#: WARNING, and the registration is kept.
Severity = Literal["error", "refuse", "warn"]

#: The default of a parameter that has none.
REQUIRED: Any = inspect.Parameter.empty


class SurfaceScope(Protocol):
    """What a rule may look at besides the call: the registrations already made."""

    @property
    def name(self) -> str:
        """The registering plugin's name."""

    def held(self, kind: str, key: str) -> Registration | None:
        """The registration holding ``key`` among ``kind``: this plugin's staged ones first,
        then the runtime's committed ones."""

    def is_own(self, record: Registration) -> bool:
        """Whether this context made ``record`` (in ``register(ctx)`` or later). The same
        plugin's records from an earlier context (before a reload) are not its own."""

    def registered(self, kind: str) -> tuple[Registration, ...]:
        """Every registration of ``kind``: the runtime's committed ones, then this plugin's
        staged ones."""

    def has_capability(self, capability: str) -> bool:
        """Whether the plugin holds ``capability``."""


@dataclasses.dataclass(frozen=True)
class SurfaceParam:
    """One parameter of a surface method, as upstream spells it.

    :param annotation: the type, as text for the generated signature.
    :param default: the default, or :data:`REQUIRED`.
    """

    name: str
    annotation: str
    default: Any = REQUIRED
    keyword_only: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclasses.dataclass(frozen=True)
class SurfaceCall:
    """One call of a surface method, bound to its parameters (defaults filled in)."""

    method: SurfaceMethod
    arguments: Mapping[str, Any]
    scope: SurfaceScope

    def __getitem__(self, parameter: str) -> Any:
        return self.arguments[parameter]

    @property
    def plugin(self) -> str:
        return self.scope.name

    @property
    def key(self) -> str:
        """The name the registration would be known by."""
        return self.method.key(self)

    def describe(self) -> str:
        """The call, abbreviated to its first argument: ``register_tool('search', ...)``."""
        if not self.method.params:
            return f"{self.method.name}()"
        first = self.arguments.get(self.method.params[0].name)
        if isinstance(first, (str, int, float, type(None))):
            shown = repr(first)
        else:
            shown = f"<{(first if inspect.isclass(first) else type(first)).__qualname__}>"
        more = ", ..." if len(self.method.params) > 1 else ""
        return f"{self.method.name}({shown}{more})"


@dataclasses.dataclass(frozen=True)
class SurfaceRule:
    """One rule a call must keep.

    :param id: stable, ``<kind>.<aspect>``; errors carry it as ``rule``.
    :param text: the rule as one sentence (docs, messages).
    :param check: the detail of a breach (``got 'a b'``), or ``None`` when the call keeps it.
    :param fix: what the plugin author should do.
    :param error: the exception an ``error`` breach raises.
    """

    id: str
    text: str
    check: Callable[[SurfaceCall], str | None]
    fix: str
    severity: Severity = "error"
    error: type[RegistrationRuleError] = RegistrationRuleError


@dataclasses.dataclass(frozen=True)
class SurfaceMethod:
    """One ``PluginContext`` registration method: upstream's signature and rules.

    :param kind: what it registers; records carry it, collisions are judged within it.
    :param key: the registration's name for one call.
    :param since: the upstream host it comes from (``"0.19.0"``: the 0.19.0 surface; ``"main"``:
        added on upstream's main branch after it).
    :param displaces: a later registration under the same key replaces the earlier one (rolled
        back, the earlier one returns). Otherwise registrations under one key accumulate, and
        the rules decide whether a second is allowed.
    :param extra_keywords: the method also takes ``**kwargs``, kept in the record as ``extra``.
    :param returns: what the call returns given its record; the record itself by default.
    :param hand_written: ``PluginContext`` defines the method itself (with its own staging);
        the row documents it and the generic checks read it like the others.
    :param host_base: ``"module:Class"``, the host's base class the registered object (the
        method's first parameter) must be an instance of; upstream ignores, with a warning, one
        that is not. The registration rules cannot hold it (the host may be absent); KC-PL-021
        does.
    """

    name: str
    kind: str
    summary: str
    params: tuple[SurfaceParam, ...]
    key: Callable[[SurfaceCall], str]
    rules: tuple[SurfaceRule, ...]
    since: str = "0.19.0"
    displaces: bool = False
    extra_keywords: bool = False
    returns: Callable[[Registration], Any] | None = None
    hand_written: bool = False
    host_base: str | None = None

    def signature(self) -> inspect.Signature:
        """The method's signature, ``self`` included."""
        kinds = inspect.Parameter
        parameters = [kinds("self", kinds.POSITIONAL_OR_KEYWORD)]
        for param in self.params:
            kind = kinds.KEYWORD_ONLY if param.keyword_only else kinds.POSITIONAL_OR_KEYWORD
            parameters.append(
                kinds(param.name, kind, default=param.default, annotation=param.annotation)
            )
        if self.extra_keywords:
            parameters.append(kinds("extra", kinds.VAR_KEYWORD, annotation="Any"))
        return inspect.Signature(parameters)

    def docstring(self) -> str:
        """The generated method's docstring: the summary, the host version and every rule."""
        lines = [self.summary, "", f"Upstream Hermes surface: {self.since}. Rules:", ""]
        lines += [f"* ``{r.id}`` ({r.severity}): {r.text}" for r in self.rules]
        return "\n".join(lines)


# --- rule factories ---------------------------------------------------------------------------


def string_arg(
    param: str, *, pattern: str | None = None, what: str = "", optional: bool = False
) -> SurfaceRule:
    """``param`` is a non-empty string (matching ``pattern``, when given)."""
    compiled = re.compile(pattern) if pattern else None
    described = what or "a non-empty string"

    def check(call: SurfaceCall) -> str | None:
        value = call[param]
        if optional and value is None:
            return None
        if not isinstance(value, str) or not value:
            return f"{param} is {value!r}"
        if compiled is not None and not compiled.fullmatch(value):
            return f"{param} is {value!r}"
        return None

    return SurfaceRule(
        f"{{kind}}.{param}",
        f"{param} is {described}" + (" or None" if optional else ""),
        check,
        f"pass {param} as {described}",
    )


def callable_arg(param: str, *, optional: bool = False) -> SurfaceRule:
    """``param`` is callable (or ``None``, when ``optional``)."""

    def check(call: SurfaceCall) -> str | None:
        value = call[param]
        if (optional and value is None) or callable(value):
            return None
        return f"{param} is {type(value).__name__}, not callable"

    return SurfaceRule(
        f"{{kind}}.{param}",
        f"{param} is callable" + (" or None" if optional else ""),
        check,
        f"pass the function itself as {param}, not its result",
    )


def instance_arg(param: str, *, severity: Severity = "error") -> SurfaceRule:
    """``param`` is an object (an instance, not ``None`` or a class)."""

    def check(call: SurfaceCall) -> str | None:
        value = call[param]
        if value is None:
            return f"{param} is None"
        if inspect.isclass(value):
            return f"{param} is the class {value.__qualname__}, not an instance"
        return None

    return SurfaceRule(
        f"{{kind}}.{param}",
        f"{param} is an instance (the host cannot check the upstream ABC it should implement)",
        check,
        f"pass an instance, e.g. {param}=MyProvider()",
        severity,
    )


def unique(severity: Severity = "error", *, same_plugin: bool = False) -> SurfaceRule:
    """No other plugin holds the call's key; with ``same_plugin``, this context has not
    registered it either.

    The same plugin's registration from an earlier context (a plugin registered again after a
    reload) never counts: the new one displaces it.
    """

    def check(call: SurfaceCall) -> str | None:
        kind, key = call.method.kind, call.key
        holder = call.scope.held(kind, key)
        if holder is None:
            return None
        if holder.plugin != call.plugin:
            return f"{key!r} is already registered by plugin {holder.plugin!r}"
        if same_plugin and call.scope.is_own(holder):
            return f"{key!r} is already registered by this plugin"
        return None

    return SurfaceRule(
        "{kind}.unique",
        "a name is registered once" + (" per plugin load" if same_plugin else " (by one plugin)"),
        check,
        "pick another name, e.g. prefix it with the plugin's name",
        severity,
    )


def reserved(names: Collection[str], what: str, severity: Severity = "error") -> SurfaceRule:
    """The call's key is not one of the host's own ``names``."""
    ordered = sorted(names)

    def check(call: SurfaceCall) -> str | None:
        if call.key in names:
            return f"{call.key!r} is a built-in {what}"
        return None

    return SurfaceRule(
        "{kind}.builtin",
        f"the name is not a built-in {what} ({', '.join(ordered)})",
        check,
        "pick a name the host does not use itself",
        severity,
    )
