"""Fuzzing discovery and loading with hostile plugins, always beside a good one.

Each example builds a fresh plugin search root and a fresh ``sys.path`` entry holding fake
installed distributions (``.dist-info`` directories), all as hostile as the loader has met:
manifests that break the YAML constructors (``2024-13-01``, ``!!int ''``, ``!!bool maybe``,
integers of thousands of digits), alias bombs and self-referring aliases, duplicate keys,
names with a trailing newline, versions YAML rewrites, non-UTF-8 and oversized files, random
bytes; ``plugin.yaml`` that is a directory, a dangling symlink or a loop; directories named
``.x`` or ``_x``, unreadable directories (when not run as root), symlink loops, dangling
links; plugin code raising ``SystemExit``, ``GeneratorExit``, custom ``BaseException``
subclasses or exceptions whose ``__str__`` raises, at import or in ``register``, after
registering into the process defaults, or blocking in ``register``; ``entry_points.txt`` lines
without ``=``, non-UTF-8 metadata, entry points naming missing modules or malformed targets.
``KeyboardInterrupt`` is left out: it is the one exception the runtime re-raises (after
recording), and has its own unit test.

Every example asserts that nothing escapes :meth:`Runtime.load`, that every failure names its
plugin and where it came from, that messages stay bounded, that failed plugins leave nothing
behind (hooks, process-default registrations), that the good plugin loads and that its
identity resolves.

The normal test run draws a few dozen examples (a few seconds). For a long run set
``KORA_FUZZ_EXAMPLES``, e.g. ``KORA_FUZZ_EXAMPLES=10000 pytest tests/test_fuzz_loading.py``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_runtime import (
    Runtime,
    RuntimeConfig,
    background_daemon_registry,
    compat,
    listener_registry,
)

pytestmark = pytest.mark.usefixtures("clean_kora_env")

EXAMPLES = int(os.environ.get("KORA_FUZZ_EXAMPLES", "40"))
#: Generous per example (the slowest legitimate case is a 0.05 s register timeout or two).
EXAMPLE_SECONDS = 10.0
GOOD = "kct_fz_good"
GROUP = "hermes_agent.plugins"
#: Released at the end of every example, so plugins blocking in register finish.
RELEASE = threading.Event()

GOOD_BODY = f"""\
from reference_runtime import IdentitySpec

def provider(**kwargs):
    return IdentitySpec("", "You are the good plugin.", {{"agent_name": "{GOOD}"}})

def register(ctx):
    ctx.register_identity_provider(provider)
    ctx.register_hook("on_session_start", lambda **kwargs: "good")
"""

# --- manifests ---------------------------------------------------------------------------------

_ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 8)]
)
HOSTILE_LINES = [
    "released: 2024-13-01",
    "big: " + "9" * 5000,
    "big: " + "9" * 4000,
    "v: !!int abc",
    "v: !!int ''",
    "v: !!timestamp 1",
    "v: !!bool maybe",
    "v: !!float x",
    "v: !!binary '@@@'",
    "v: !!python/object:os.system ls",
    "v: !!set {a: 1}",
    "v: !!omap [a, b]",
    "v: &self [*self]",
    "v: &m {k: *m}",
    "v: *undefined",
    _ALIAS_BOMB,
    "version: 0x10",
    "version: 1.10",
    "version: 010",
    "version: [1, 0]",
    "version: 2",
    "version: '1.0.0'",
    "hooks: on_session_start",
    "hooks: [1, 2]",
    "hooks: [on_session_start, pre_agent_identity_set]",
    "author: {name: x, name: y}",
    "author: 7",
    "description: [a]",
    "kind: standalone",
    "provides_tools: [t]",
    "provides_widgets: [w]",
    "requires_env: [TOKEN]",
    "flavour: vanilla",
    "? [a, b]\n: c",
    "1: one",
    "null: nothing",
    "<<: {merged: 1}",
    "deep: " + "[" * 2000 + "]" * 2000,
    "tab:\there",
    "name: again",
    "  indented: wrong",
    "%YAML 1.1",
    "---\nsecond: document",
]
NAMES = [
    "bad\\n",
    "has space",
    "",
    "x" * 300,
    "ünïcode",
    GOOD + "\\n",
]


@st.composite
def manifest_bytes(draw: st.DrawFn, key: str) -> bytes:
    kind = draw(
        st.sampled_from(["lines", "lines", "lines", "random", "binary", "huge", "bad-utf8"])
    )
    if kind == "random":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "binary":
        return draw(st.binary(max_size=200))
    if kind == "huge":
        return f"name: {key}\ndescription: '{'a' * 70_000}'\n".encode()
    if kind == "bad-utf8":
        return f"name: {key}\ndescription: caf".encode() + b"\xe9\n"
    name = draw(st.one_of(st.just(key), st.sampled_from(NAMES).map(lambda n: f'"{n}"')))
    lines = draw(st.lists(st.sampled_from(HOSTILE_LINES), max_size=4))
    head = [] if draw(st.booleans()) and lines else [f"name: {name}"]
    return "\n".join([*head, *lines, ""]).encode("utf-8")


# --- plugin code -------------------------------------------------------------------------------

RAISERS = {
    "SystemExit": "raise SystemExit(3)",
    "GeneratorExit": "raise GeneratorExit()",
    "custom": "class KctStop(BaseException):\n    pass\nraise KctStop('stop')",
    "bad-str": (
        "class KctUgly(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no str')\n"
        "raise KctUgly()"
    ),
    "bad-str-base": (
        "class KctWorse(BaseException):\n"
        "    def __str__(self):\n"
        "        raise KctWorse()\n"
        "raise KctWorse()"
    ),
    "huge-message": "raise ValueError('x' * 10_000_000)",
    "recursion": "def f():\n    return f()\nf()",
    "stop-iteration": "raise StopIteration",
    "memory": "raise MemoryError('pretend')",
}
PROCESS_DEFAULTS = (
    "from reference_runtime import BackgroundDaemonEntry, background_daemon_registry\n"
    "from reference_runtime import listener_registry\n"
    "async def _start(coordinator=None):\n    pass\n"
    "async def _stop():\n    pass\n"
    "def _factory():\n    return _start, _stop\n"
    "background_daemon_registry().register(BackgroundDaemonEntry(__name__ + '.d', _start, _stop))\n"
    "listener_registry().register(__name__.replace('.', '_'), _factory)\n"
)


def _indent(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())


def _code_kinds(raiser: str) -> dict[str, str]:
    """Hostile plugin sources by kind, ``raiser`` being the statement that fails."""
    return {
        "import-raises": raiser + "\n",
        "register-raises": "def register(ctx):\n" + _indent(raiser),
        "half-way": (
            "def register(ctx):\n"
            "    ctx.register_hook('on_session_start', lambda **kw: 'half')\n"
            "    ctx.register_hook('post_tool_call', lambda **kw: 'half')\n" + _indent(raiser)
        ),
        "syntax": "def register(ctx)\n    pass\n",
        "no-register": "VALUE = 1\n",
        "not-callable": "register = 5\n",
        "bad-provider": (
            "def provider(**kwargs):\n" + _indent(raiser) + "def wrong(**kwargs):\n    return 42\n"
            "def register(ctx):\n"
            "    ctx.register_identity_provider(provider)\n"
            "    ctx.register_identity_provider(wrong)\n"
        ),
        "blocks": (
            "import tests.test_fuzz_loading as fuzz\n"
            "def register(ctx):\n    fuzz.RELEASE.wait(30)\n"
        ),
        "async-raises": "async def register(ctx):\n" + _indent(raiser),
        "defaults-at-import": PROCESS_DEFAULTS + raiser + "\n",
        "defaults-then-register-raises": (
            PROCESS_DEFAULTS + "def register(ctx):\n" + _indent(raiser)
        ),
        "benign": "def register(ctx):\n    pass\n",
    }


CODE_KINDS = sorted(_code_kinds(""))


@st.composite
def plugin_code(draw: st.DrawFn) -> tuple[str, bool]:
    """``(source, blocks)``: hostile plugin code, and whether its register blocks."""
    kind = draw(st.sampled_from(CODE_KINDS))
    raiser = RAISERS[draw(st.sampled_from(sorted(RAISERS)))]
    return _code_kinds(raiser)[kind], kind == "blocks"


# --- directories and distributions -------------------------------------------------------------


@dataclass
class World:
    """One example's hostile plugins, ready to be written."""

    directories: list[tuple[str, str, bytes | None, str]] = field(default_factory=list)
    distributions: list[tuple[str, bytes | None, bytes | None, dict[str, str]]] = field(
        default_factory=list
    )
    enabled: list[str] = field(default_factory=list)
    blocks: bool = False


SHAPES = [
    "plugin",
    "plugin",
    "plugin",
    "manifest-dir",
    "no-manifest",
    "no-init",
    "loop",
    "dangling",
    "manifest-dangling",
    "manifest-loop",
    "hidden",
    "private",
    "file",
    "yml",
    "unreadable",
]
EP_LINES = [
    "{name} = {module}",
    "{name} = {module}:register",
    "{name} = {module}:missing",
    "{name} = kct_fz_no_such_module",
    "{name}",
    "= {module}",
    "{name} = ",
    "[broken section",
    "{name} = {module} [extra]",
]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    for index in range(draw(st.integers(0, 5))):
        key = f"kct_fz_{index}"
        shape = draw(st.sampled_from(SHAPES))
        code, blocks = draw(plugin_code())
        world.blocks |= blocks
        manifest = draw(manifest_bytes(key))
        directory = {"hidden": f".{key}", "private": f"_{key}"}.get(shape, key)
        if draw(st.booleans()):
            directory = directory.replace("_", "-")
        world.directories.append((shape, directory, manifest, code))
        world.enabled.append(draw(st.sampled_from([key, directory])))
    for index in range(draw(st.integers(0, 3))):
        name, module = f"kct_fz_ep{index}", f"kct_fz_epmod{index}"
        lines = draw(st.lists(st.sampled_from(EP_LINES), min_size=0, max_size=3))
        section = draw(st.sampled_from([GROUP, "console_scripts", GROUP]))
        text = f"[{section}]\n" + "\n".join(x.format(name=name, module=module) for x in lines)
        entry_points: bytes | None = draw(
            st.sampled_from([text.encode(), text.encode() + b"\n\xff\xfe\n", None])
            | st.binary(max_size=80)
        )
        metadata: bytes | None = draw(
            st.sampled_from(
                [
                    f"Metadata-Version: 2.1\nName: kct-fz-dist{index}\nVersion: 1.0\n".encode(),
                    b"Name: kct-fz\nSummary: caf\xe9\n",
                    b"\xff\xfe\x00",
                    None,
                ]
            )
        )
        code, blocks = draw(plugin_code())
        world.blocks |= blocks
        world.distributions.append((f"kct_fz_dist{index}", entry_points, metadata, {module: code}))
        world.enabled.append(name)
    world.enabled.insert(draw(st.integers(0, len(world.enabled))), GOOD)
    world.enabled = list(dict.fromkeys(world.enabled))
    return world


def _write_directory(root: Path, shape: str, name: str, manifest: bytes | None, code: str) -> None:
    path = root / name
    if shape == "loop":
        path.symlink_to(path)
        return
    if shape == "dangling":
        path.symlink_to(root / "kct_fz_nowhere")
        return
    if shape == "file":
        path.write_bytes(manifest or b"")
        return
    path.mkdir()
    if shape != "no-init":
        (path / "__init__.py").write_text(code, encoding="utf-8")
    manifest_path = path / ("plugin.yml" if shape == "yml" else "plugin.yaml")
    if shape == "manifest-dir":
        manifest_path.mkdir()
    elif shape == "manifest-dangling":
        manifest_path.symlink_to(path / "gone.yaml")
    elif shape == "manifest-loop":
        manifest_path.symlink_to(manifest_path)
    elif shape != "no-manifest":
        manifest_path.write_bytes(manifest or b"")
    if shape == "unreadable":
        path.chmod(0)  # no effect when the tests run as root; the unit tests simulate it


def _write_distribution(
    site: Path, dist: str, entry_points: bytes | None, metadata: bytes | None, code: dict[str, str]
) -> None:
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    if metadata is not None:
        (info / "METADATA").write_bytes(metadata)
    else:
        (info / "METADATA").mkdir()  # a directory where a file belongs
    if entry_points is not None:
        (info / "entry_points.txt").write_bytes(entry_points)
    for module, source in code.items():
        (site / f"{module}.py").write_text(source, encoding="utf-8")


def _check(world: World, base: Path) -> None:
    root, site = base / "plugins", base / "site"
    root.mkdir()
    site.mkdir()
    (root / GOOD).mkdir()
    (root / GOOD / "plugin.yaml").write_text(f"name: {GOOD}\nversion: '1.0'\n", encoding="utf-8")
    (root / GOOD / "__init__.py").write_text(GOOD_BODY, encoding="utf-8")
    for shape, name, manifest, code in world.directories:
        if not (root / name).exists() and not (root / name).is_symlink():
            _write_directory(root, shape, name, manifest, code)
    for dist, entry_points, metadata, code in world.distributions:
        _write_distribution(site, dist, entry_points, metadata, code)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    config = RuntimeConfig(
        enabled=tuple(world.enabled),
        plugin_dirs=(root,),
        entry_point_groups=(GROUP,),
        register_timeout=0.05 if world.blocks else None,
    )
    runtime = Runtime(config)
    started = time.monotonic()
    try:
        report = runtime.load()
    except BaseException as exc:  # noqa: BLE001 - the property under test
        pytest.fail(f"load() let {type(exc).__name__} escape: {exc!r}"[:2000])
    elapsed = time.monotonic() - started
    assert elapsed < EXAMPLE_SECONDS, f"load() took {elapsed:.1f} s"

    assert report.plugin(GOOD) is not None, report.errors
    assert GOOD not in report.errors
    for key, message in report.errors.items():
        assert repr(key) in message or key in message, (key, message)
        assert str(root) in message or GROUP in message or str(site) in message, (key, message)
        assert len(message) < 5000, (key, len(message))
    for warning in report.warnings:
        assert len(warning) < 20_000, len(warning)
    resolved = runtime.resolve_identity()
    assert (resolved.source, resolved.plugin) == ("plugin", GOOD)
    # Hostile plugins that registered this hook all failed afterwards, so were rolled back;
    # and what their imports put into the process defaults was removed with them.
    assert runtime.invoke_hook("on_session_start") == ["good"]
    assert background_daemon_registry().list_entries() == []
    assert listener_registry().names() == []


@pytest.mark.parametrize("_", [0])  # a plain test id for -k
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(world=worlds())
def test_hostile_plugins_never_stop_the_good_one(
    preserving_imports: Callable[[], contextlib.AbstractContextManager[None]], world: World, _: int
) -> None:
    base = Path(tempfile.mkdtemp(prefix="kct-fuzz-"))
    RELEASE.clear()
    try:
        with preserving_imports(), compat.isolated_defaults():
            _check(world, base)
    finally:
        RELEASE.set()
        for path in (base / "plugins").glob("*"):
            if not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
