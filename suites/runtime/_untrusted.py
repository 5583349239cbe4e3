"""Discovery's untrusted input (contract 2.1): broken entries in a search root, and installed
distributions with broken metadata, each costing only itself; what KC-RT-004 and KC-RT-005
try besides the probes.

Each function writes its input into the check's scratch directory, starts one session over it
and returns what went wrong, as sentences (empty when nothing did).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Final

from kora_conformance import CheckContext
from kora_conformance.suites.runtime._generated import write_plugin_module
from kora_conformance.suites.runtime._probing import (
    ENTRY_POINT_GROUP,
    describe_loading,
    probe_session,
    warnings_logged,
)

__all__ = ["HEALTHY_DIRECTORY", "distribution_problems", "search_root_problems"]

#: The healthy plugin among the broken entries of the search root.
HEALTHY_DIRECTORY: Final = "kcb_good"
#: A directory whose manifest names it differently, and that name.
RENAMED: Final = ("kcb_renamed", "kcb_other")


def _manifest(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.yaml").write_text(
        f"name: {name}\nversion: 0.1.0\ndescription: a generated kora-conformance probe\n",
        encoding="utf-8",
    )


def _broken_root(root: Path) -> dict[str, Path]:
    """Write the search root; return each broken entry's enabled name and path."""
    entries = {
        name: root / name
        for name in (
            "kcb_nomanifest",
            "kcb_yamldir",
            "_kcb_private",
            RENAMED[0],
            "kcb_dangling",
            "kcb_loop",
        )
    }
    write_plugin_module(entries["kcb_nomanifest"] / "__init__.py", "kcb_nomanifest")
    (entries["kcb_yamldir"] / "plugin.yaml").mkdir(parents=True)
    write_plugin_module(entries["kcb_yamldir"] / "__init__.py", "kcb_yamldir")
    _manifest(entries["_kcb_private"], "_kcb_private")
    write_plugin_module(entries["_kcb_private"] / "__init__.py", "_kcb_private")
    _manifest(entries[RENAMED[0]], RENAMED[1])
    write_plugin_module(entries[RENAMED[0]] / "__init__.py", RENAMED[1])
    os.symlink(root / "kcb_nowhere", entries["kcb_dangling"])
    os.symlink(entries["kcb_loop"], entries["kcb_loop"])
    _manifest(root / HEALTHY_DIRECTORY, HEALTHY_DIRECTORY)
    write_plugin_module(root / HEALTHY_DIRECTORY / "__init__.py", HEALTHY_DIRECTORY)
    return entries


def search_root_problems(ctx: CheckContext) -> list[str]:
    """Enable every broken entry of a search root (no manifest, ``plugin.yaml`` a directory, a
    private name, a manifest naming the plugin differently, a dangling symlink, a symlink loop)
    and a healthy plugin beside them: the healthy one loads, and what the runtime reports (its
    load errors and warnings) names each broken entry's path, and the other name."""
    root = ctx.sandbox.scratch / "kc_untrusted" / "plugins"
    entries = _broken_root(root)
    enabled = [*entries, HEALTHY_DIRECTORY]
    with (
        warnings_logged() as logged,
        probe_session(ctx, enabled, extra_dirs=(root,), static=False) as session,
    ):
        loaded, errors = list(session.loaded), dict(session.load_errors)
        loading = describe_loading(session)
    problems = []
    if HEALTHY_DIRECTORY not in loaded:
        problems.append(f"the healthy {HEALTHY_DIRECTORY} beside them did not load ({loading})")
    messages = logged.messages()
    for name, path in entries.items():
        if name in loaded:
            problems.append(f"{name} ({path}) is reported as loaded")
            continue
        reported = [errors.get(name, ""), *(m for m in messages if name in m)]
        must_name = [str(path)] + ([RENAMED[1]] if name == RENAMED[0] else [])
        missing = [text for text in must_name if not any(text in r for r in reported)]
        if missing:
            problems.append(
                f"nothing reported for the enabled {name} names {' or '.join(missing)}, the "
                "entry passed over and why"
            )
    return problems


#: The distributions' entry-point names (module form, packages of their own).
GOOD_BESIDE_BAD_LINE: Final = "kcu_alpha"
GOOD_WITH_BAD_METADATA: Final = "kcu_bravo"
#: The bad line of the first distribution's ``entry_points.txt`` and its number.
BAD_LINE: Final = ("this line has no equals sign", 3)


def _distribution(site: Path, name: str, metadata: bytes, entry_points: bytes) -> Path:
    dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_bytes(metadata)
    (dist / "entry_points.txt").write_bytes(entry_points)
    return dist


def distribution_problems(ctx: CheckContext) -> list[str]:
    """Installed distributions with broken metadata: a line without ``=`` in
    ``entry_points.txt`` beside a good entry point, a ``METADATA`` that is not UTF-8 beside
    another, an ``entry_points.txt`` that is not UTF-8. Both good entry points load, and the
    warnings name the first distribution's file and line and the third distribution."""
    site = ctx.sandbox.scratch / "kc_untrusted" / "site"
    for index, name in enumerate((GOOD_BESIDE_BAD_LINE, GOOD_WITH_BAD_METADATA)):
        write_plugin_module(site / f"kcu_pkg_{index}" / "__init__.py", name)
    group = f"[{ENTRY_POINT_GROUP}]\n".encode()
    ok = b"Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n"
    bad_line = _distribution(
        site,
        "kcu-bad-line",
        ok % b"kcu-bad-line",
        group + f"{GOOD_BESIDE_BAD_LINE} = kcu_pkg_0\n{BAD_LINE[0]}\n".encode(),
    )
    _distribution(
        site,
        "kcu-bad-metadata",
        b"Metadata-Version: 2.1\nName: kcu-bad-metadata\nVersion: 1.0\nSummary: \xff\xfe\n",
        group + f"{GOOD_WITH_BAD_METADATA} = kcu_pkg_1\n".encode(),
    )
    unreadable = _distribution(
        site, "kcu-bad-entry-points", ok % b"kcu-bad-entry-points", group + b"kcu_x = \xff\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    enabled = [GOOD_BESIDE_BAD_LINE, GOOD_WITH_BAD_METADATA]
    with (
        warnings_logged() as logged,
        probe_session(ctx, enabled, groups=(ENTRY_POINT_GROUP,), static=False) as session,
    ):
        loaded, loading = list(session.loaded), describe_loading(session)
    problems = [
        f"{name}, a good entry point of a distribution with broken metadata, did not load "
        f"({loading})"
        for name in enabled
        if name not in loaded
    ]
    messages = logged.messages()
    line = str(BAD_LINE[1])
    if not any(
        ("kcu-bad-line" in m or str(bad_line) in m) and "entry_points.txt" in m and line in m
        for m in messages
    ):
        problems.append(
            f"no warning names the distribution kcu-bad-line, its entry_points.txt and the "
            f"bad line {line} ({BAD_LINE[0]!r})"
        )
    if not any("kcu-bad-entry-points" in m or str(unreadable) in m for m in messages):
        problems.append(
            "no warning names the distribution kcu-bad-entry-points, whose entry_points.txt "
            "is not UTF-8"
        )
    return problems
