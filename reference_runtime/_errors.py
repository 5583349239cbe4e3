"""The runtime's exception tree.

Every error the runtime raises on purpose derives from :class:`KoraError`, so a host can catch the
whole family in one clause. Each subclass also inherits the builtin it is closest to, so code that
already catches ``ValueError`` or ``RuntimeError`` keeps working::

    KoraError
    ├── ConfigError(ValueError)             a config file or option is malformed
    ├── IdentitySpecError(ValueError)       an IdentitySpec broke a field rule
    ├── ManifestError(ValueError)           a plugin.yaml is malformed or breaks a rule
    ├── PluginLoadError(RuntimeError)       a plugin could not be imported or registered
    ├── RegistrationError(TypeError)        a plugin passed the context something unusable
    │   └── RegistrationRuleError(ValueError)
    │       │                               a registration broke one of the surface's rules
    │       ├── ToolOverrideError           override=True without the tools.override capability
    │       └── SkillPathError(FileNotFoundError)
    │                                       register_skill's path is not there
    ├── NotRegisteredError(LookupError)     no tool or command is registered under that name
    ├── LLMUnavailableError(RuntimeError)   ctx.llm was asked to complete with no model behind it
    ├── IdentityResolutionError(RuntimeError)
    │                                       no provider claimed and the fallback file failed
    ├── EngineNotConfiguredError(RuntimeError)
    │                                       a request was sent without credentials
    ├── DaemonSpecError(ValueError)         a daemon entry or periodic task is malformed
    └── DuplicateDaemonError(ValueError)    a different daemon claimed a taken name

Messages name the object, the rule it broke and the fix; the attributes carry the same facts for
programs.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Final

__all__ = [
    "ConfigError",
    "DaemonSpecError",
    "DuplicateDaemonError",
    "EngineNotConfiguredError",
    "IdentityResolutionError",
    "IdentitySpecError",
    "KoraError",
    "LLMUnavailableError",
    "ManifestError",
    "NotRegisteredError",
    "PluginLoadError",
    "RegistrationError",
    "RegistrationRuleError",
    "SkillPathError",
    "ToolOverrideError",
]


_REPR: Final = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_QUOTE_LIMIT: Final = 120


def quote(value: object) -> str:
    """A ``repr`` of ``value`` for an error message: bounded in size and in the time it takes.

    Nesting, long strings and long containers are elided (``...``); a value whose ``repr``
    raises is described by its type. Never raises.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a message about a bad value must not fail on it
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _QUOTE_LIMIT else f"{text[: _QUOTE_LIMIT - 3]}..."


def message_of(exc: BaseException, limit: int = 500) -> str:
    """``str(exc)`` for an error message: at most ``limit`` characters, and never raising.

    Plugins raise whatever they like, including exceptions whose ``__str__`` raises or returns
    megabytes; a message about such a failure must still be produced, and stay short.
    """
    try:
        text = str(exc)
    except BaseException as inner:  # noqa: BLE001 - a hostile __str__ must not escape
        text = f"<its message cannot be shown: __str__ raised {type(inner).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class KoraError(Exception):
    """Root of every error raised by the reference runtime."""


class ConfigError(KoraError, ValueError):
    """A configuration file or option is malformed.

    :ivar path: the configuration file, when the error came from one.
    """

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class IdentitySpecError(KoraError, ValueError):
    """An :class:`~reference_runtime.IdentitySpec` field broke its rule.

    :ivar field: the offending field's name.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ManifestError(KoraError, ValueError):
    """A plugin manifest (``plugin.yaml``) is malformed or breaks a rule.

    :ivar path: the manifest file.
    :ivar line: the 1-based line YAML pointed at, when it gave one.
    """

    def __init__(self, message: str, *, path: Path, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class PluginLoadError(KoraError, RuntimeError):
    """A plugin failed to import or register; the runtime records it and loads the others.

    :ivar plugin: the plugin's key.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(message)
        self.plugin = plugin


class RegistrationError(KoraError, TypeError):
    """A plugin's ``register(ctx)`` passed the context an unusable argument.

    :ivar plugin: the plugin's key.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(message)
        self.plugin = plugin


class IdentityResolutionError(KoraError, RuntimeError):
    """No provider claimed the identity and the fallback system prompt could not be used.

    :ivar path: the fallback path that was tried.
    """

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class EngineNotConfiguredError(KoraError, RuntimeError):
    """The engine was asked to send a request but has no credentials."""


class DaemonSpecError(KoraError, ValueError):
    """A background daemon entry, periodic task or listener is malformed.

    :ivar field: the offending field's name.
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateDaemonError(KoraError, ValueError):
    """A different daemon tried to register under a name that is already taken.

    :ivar name: the contested daemon name.
    :ivar existing_owner: the plugin that holds the name.
    :ivar new_owner: the plugin that tried to take it.
    """

    def __init__(self, message: str, *, name: str, existing_owner: str, new_owner: str) -> None:
        super().__init__(message)
        self.name = name
        self.existing_owner = existing_owner
        self.new_owner = new_owner


class RegistrationRuleError(RegistrationError, ValueError):
    """A ``ctx.register_*`` call broke one of the registration surface's rules.

    It is also a ``ValueError``, which is what the upstream host raises for most of these rules.

    :ivar plugin: the plugin's key.
    :ivar call: the call, abbreviated (``register_tool('search', ...)``).
    :ivar rule: the broken rule's ID in the surface table (``tool.override-capability``).
    """

    def __init__(self, message: str, *, plugin: str, call: str, rule: str) -> None:
        super().__init__(message, plugin=plugin)
        self.call = call
        self.rule = rule


class ToolOverrideError(RegistrationRuleError):
    """``register_tool(..., override=True)`` from a plugin without the ``tools.override``
    capability (upstream's ``PluginToolOverrideError``)."""


class SkillPathError(RegistrationRuleError, FileNotFoundError):
    """``register_skill``'s path does not exist (a ``FileNotFoundError``, as upstream raises)."""


class NotRegisteredError(KoraError, LookupError):
    """No tool or command is registered under the name asked for.

    :ivar kind: ``"tool"`` or ``"command"``.
    :ivar name: the name asked for.
    """

    def __init__(self, message: str, *, kind: str, name: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class LLMUnavailableError(KoraError, RuntimeError):
    """``ctx.llm`` was asked for a completion but the host supplied no model.

    :ivar plugin: the plugin that asked.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        super().__init__(message)
        self.plugin = plugin
