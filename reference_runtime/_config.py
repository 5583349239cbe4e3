"""Runtime configuration: which plugins load, in which order, and where to look for them."""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import numbers
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import yaml

from ._errors import ConfigError

__all__ = [
    "DEFAULT_ENTRY_POINT_GROUPS",
    "DEFAULT_SYSTEM_PROMPT_PATH",
    "ENV_SYSTEM_PROMPT_PATH",
    "RuntimeConfig",
    "env_flag",
    "load_config",
]

_log = logging.getLogger("reference_runtime")

#: Entry-point groups searched for installed plugins, in order.
DEFAULT_ENTRY_POINT_GROUPS: Final = ("hermes_agent.plugins", "kora.plugins")

#: Environment variable naming the fallback system prompt file.
ENV_SYSTEM_PROMPT_PATH: Final = "KORA_SYSTEM_PROMPT_PATH"

#: Where the fallback system prompt lives when neither an argument nor the variable says.
DEFAULT_SYSTEM_PROMPT_PATH: Final = Path("~/.kora/kora_system_prompt.md")

_TRUTHY: Final = frozenset({"true", "1", "yes", "on"})


def env_flag(name: str, environ: os._Environ[str] | dict[str, str] | None = None) -> bool:
    """Read a boolean environment variable.

    ``true``, ``1``, ``yes`` and ``on`` (any case, surrounding blanks ignored) are true; unset or
    blank is false; any other value is false and logged at WARNING so a typo does not pass
    silently.
    """
    raw = (os.environ if environ is None else environ).get(name, "")
    value = raw.strip().lower()
    if value in _TRUTHY:
        return True
    if value and value not in {"false", "0", "no", "off"}:
        _log.warning(
            "%s=%r is not a recognised boolean; treating it as false "
            "(use true/1/yes/on to enable, or unset it)",
            name,
            raw,
        )
    return False


def _names(value: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(name.strip() for name in value if name.strip())


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    """What a runtime loads.

    :param enabled: plugin names to load, in precedence order (first wins identity resolution).
    :param disabled: names that never load, even when enabled.
    :param plugin_dirs: search roots for directory plugins; a later root shadows an earlier one.
    :param entry_point_groups: entry-point groups to search; empty to ignore installed plugins.
    :param system_prompt_path: the fallback system prompt file, overriding the variable.
    :param default_system_prompt_path: the fallback used when neither argument nor variable is set.
    :param register_timeout: seconds each plugin's ``register(ctx)`` may take; one that has not
        returned by then is that plugin's failure (see :meth:`Runtime.register_plugin` for what
        happens to its thread). ``None`` (the default) sets no bound and runs ``register`` in
        the loading thread, at no cost; a number runs each ``register`` in a worker thread.
    :raises ConfigError: a name is enabled twice, or ``register_timeout`` is not a finite
        number > 0.
    """

    enabled: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()
    plugin_dirs: tuple[Path, ...] = ()
    entry_point_groups: tuple[str, ...] = DEFAULT_ENTRY_POINT_GROUPS
    system_prompt_path: Path | None = None
    default_system_prompt_path: Path = DEFAULT_SYSTEM_PROMPT_PATH
    register_timeout: float | None = None

    def __post_init__(self) -> None:
        enabled = _names(self.enabled)
        duplicates = sorted(name for name, n in collections.Counter(enabled).items() if n > 1)
        if duplicates:
            msg = (
                f"plugins.enabled lists {', '.join(duplicates)} more than once; "
                "each plugin loads once, so list it once, at its precedence position"
            )
            raise ConfigError(msg)
        object.__setattr__(self, "enabled", enabled)
        object.__setattr__(self, "disabled", frozenset(_names(self.disabled)))
        object.__setattr__(self, "plugin_dirs", tuple(Path(p) for p in self.plugin_dirs))
        object.__setattr__(self, "entry_point_groups", tuple(self.entry_point_groups))
        object.__setattr__(self, "register_timeout", _timeout(self.register_timeout))

    @property
    def active(self) -> tuple[str, ...]:
        """Enabled names that are not disabled, in precedence order."""
        return tuple(name for name in self.enabled if name not in self.disabled)


def _timeout(value: object) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        msg = (
            f"register_timeout must be a finite number of seconds > 0, or None for no bound; "
            f"got {value!r}"
        )
        raise ConfigError(msg)
    return float(value)


def _string_list(section: dict[str, Any], key: str, path: Path) -> list[str]:
    value = section.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        msg = f"{path}: plugins.{key} must be a list of plugin names, e.g. {key}: [marvin, kora]"
        raise ConfigError(msg, path=path)
    return value


def load_config(path: Path, **overrides: Any) -> RuntimeConfig:
    """Read a YAML configuration file with a ``plugins:`` section.

    Recognised keys: ``plugins.enabled`` (ordered list), ``plugins.disabled`` (list),
    ``plugins.dirs`` (list of search roots, relative to the file) and
    ``plugins.register_timeout`` (seconds, see :class:`RuntimeConfig`). ``overrides`` are
    :class:`RuntimeConfig` fields that replace what the file says.

    :raises ConfigError: unreadable file, invalid YAML, or a section of the wrong shape.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path}: cannot read the configuration file ({exc})"
        raise ConfigError(msg, path=path) from exc
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML ({exc}); fix the syntax"
        raise ConfigError(msg, path=path) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"{path}: the configuration must be a mapping with a 'plugins:' section"
        raise ConfigError(msg, path=path)
    section = data.get("plugins", {})
    if section is None:
        section = {}
    if not isinstance(section, dict):
        msg = f"{path}: 'plugins' must be a mapping with 'enabled' and 'disabled' lists"
        raise ConfigError(msg, path=path)
    fields: dict[str, Any] = {
        "enabled": tuple(_string_list(section, "enabled", path)),
        "disabled": frozenset(_string_list(section, "disabled", path)),
        "plugin_dirs": tuple(path.parent / d for d in _string_list(section, "dirs", path)),
    }
    if section.get("register_timeout") is not None:
        try:
            fields["register_timeout"] = _timeout(section["register_timeout"])
        except ConfigError as exc:
            msg = f"{path}: plugins.{exc}"
            raise ConfigError(msg, path=path) from None
    fields.update(overrides)
    return RuntimeConfig(**fields)
