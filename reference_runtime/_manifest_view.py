"""``ctx.manifest``: the plugin's manifest as upstream plugins see it, readable and writable.

Upstream's manifest object is a plain mutable dataclass with every v1 and v2 field, and plugins
read fields such as ``provides_tools`` or ``kind`` from it and sometimes write to it. The
runtime's :class:`~reference_runtime.Manifest` is frozen and keeps upstream fields in ``extra``;
this view reads through to it and keeps writes to itself, so what a plugin writes never changes
the runtime's record of the plugin (its name, what discovery found).
"""

from __future__ import annotations

import copy
import types
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["UPSTREAM_MANIFEST_DEFAULTS", "ManifestView"]

#: Upstream manifest fields a manifest may leave out, with the value upstream gives them.
UPSTREAM_MANIFEST_DEFAULTS: Final[Mapping[str, Any]] = types.MappingProxyType(
    {
        "api_version": None,
        "capabilities": [],
        "config_schema": {},
        "emits": [],
        "homepage": "",
        "kind": "standalone",
        "license": "",
        "listens": [],
        "manifest_version": 1,
        "provides_hooks": [],
        "provides_tools": [],
        "python_dependencies": [],
        "requires_env": [],
        "requires_hermes": None,
        "requires_plugins": [],
        "tags": [],
    }
)


class ManifestView:
    """A plugin's manifest, readable and writable by the plugin.

    Reading an attribute gives, in order: what the plugin wrote; the manifest's own field
    (``name``, ``version``, ``hooks``, ...); the upstream field as written in ``plugin.yaml``;
    upstream's default for it. Mutable values are copied on first read, so appending to
    ``ctx.manifest.provides_tools`` sticks without touching the manifest underneath.

    :param source: the manifest the runtime loaded (normally a
        :class:`~reference_runtime.Manifest`).
    """

    def __init__(self, source: Any) -> None:
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_written", {})

    @property
    def source(self) -> Any:
        """The manifest underneath, unchanged by writes."""
        return self._source

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found normally: everything but source and the internals.
        written: dict[str, Any] = self.__dict__["_written"]
        if name in written:
            return written[name]
        if name.startswith("_"):
            raise AttributeError(name)
        source = self.__dict__["_source"]
        if name == "key":
            return source.name
        if name == "provides_hooks" and getattr(source, "hooks", None) is not None:
            value: Any = list(source.hooks)
        elif hasattr(source, name):
            return getattr(source, name)
        elif name in (getattr(source, "extra", None) or {}):
            value = copy.deepcopy(source.extra[name])
        elif name in UPSTREAM_MANIFEST_DEFAULTS:
            value = copy.deepcopy(UPSTREAM_MANIFEST_DEFAULTS[name])
        else:
            msg = (
                f"the manifest of plugin {source.name!r} has no field {name!r} (known: its own "
                f"fields and {', '.join(UPSTREAM_MANIFEST_DEFAULTS)})"
            )
            raise AttributeError(msg)
        written[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self._written[name] = value

    def __delattr__(self, name: str) -> None:
        self._written.pop(name, None)

    def __repr__(self) -> str:
        return f"ManifestView({self._source!r}, written={sorted(self._written)})"
