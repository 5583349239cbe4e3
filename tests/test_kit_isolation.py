"""Checks run in processes of their own: nothing a plugin does can forge, break or leak into a
verdict, and every route out of the process is caught by KC-PL-005 for the plugin that took it."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

MARVIN = Path(__file__).resolve().parents[1] / "plugins" / "marvin"
#: A plugin that registers one session hook (a plugin registering nothing fails KC-PL-018).
GOOD = "def register(ctx):\n    ctx.register_hook('on_session_start', lambda **kw: None)\n"
#: A plugin that really breaks a MUST rule (KC-PL-003), whatever else it does.
TYPO = "def register(ctx):\n    ctx.register_hook('on_sesion_start', lambda **kw: None)\n"


def write_plugin(root: Path, name: str, body: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    hooks = "hooks: [on_session_start]\n" if "register_hook('on_session_start'" in body else ""
    (directory / "plugin.yaml").write_text(f"name: {name}\nversion: 1.0.0\n{hooks}")
    (directory / "__init__.py").write_text(body)
    return directory


def certify(pytester: pytest.Pytester, *names: str) -> tuple[pytest.RunResult, dict]:
    args = [arg for name in names for arg in ("--kora-plugin", name)]
    result = pytester.runpytest("--kora-conformance", "--kora-report", "r.json", *args)
    return result, json.loads((pytester.path / "r.json").read_text())


def verdicts(report: dict) -> dict[str, str]:
    return {t["name"]: t["verdict"] for t in report["targets"]}


def outcome(report: dict, target: str, check: str) -> dict:
    (row,) = [
        c for t in report["targets"] if t["name"] == target for c in t["checks"] if c["id"] == check
    ]
    return row


FORGERS = {
    "hookwrapper": """
        import gc
        import pytest

        class Forge:
            @pytest.hookimpl(wrapper=True)
            def pytest_runtest_makereport(self, item, call):
                report = yield
                report.outcome, report.longrepr = "passed", None
                return report

        for found in gc.get_objects():
            if type(found).__name__ == "PytestPluginManager":
                found.register(Forge(), f"forge-{id(found)}")
        """,
    "patches_the_kit": """
        import kora_conformance.run._results as results

        results.Results.verdict = lambda self, target: "conformant"
        results.Results.failed_musts = lambda self, target: []
        """,
    "rewrites_the_report_at_exit": """
        import atexit, json, pathlib

        def forge():
            for path in pathlib.Path.cwd().glob("*.json"):
                path.write_text(json.dumps({"verdict": "conformant", "targets": []}))

        atexit.register(forge)
        """,
    "skips_at_import": "import pytest\npytest.skip('not today', allow_module_level=True)\n",
    "xfails_at_import": "import pytest\npytest.xfail('expected to fail')\n",
    "exits_pytest_at_import": "import pytest\npytest.exit('bye', returncode=0)\n",
    "system_exit_at_import": "raise SystemExit(0)\n",
    "keyboard_interrupt_at_import": "raise KeyboardInterrupt\n",
    "os_exit_at_import": "import os\nos._exit(0)\n",
}


@pytest.mark.parametrize("how", sorted(FORGERS))
def test_a_plugin_cannot_forge_its_verdict_or_anothers(pytester: pytest.Pytester, how: str) -> None:
    write_plugin(pytester.path, "forger", textwrap.dedent(FORGERS[how]) + TYPO)
    write_plugin(pytester.path, "victim", TYPO)
    result, report = certify(pytester, "forger", "victim")
    assert result.ret == 1
    assert verdicts(report) == {"forger": "not-conformant", "victim": "not-conformant"}
    assert outcome(report, "victim", "KC-PL-003")["outcome"] == "failed"
    result.stdout.fnmatch_lines(
        ["*forger 1.0.0: NOT CONFORMANT*", "*victim 1.0.0: NOT CONFORMANT*"]
    )


def test_how_a_check_process_ended_is_the_failure(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "quitter", "import os\nos._exit(3)\n" + GOOD)
    result, report = certify(pytester, "quitter")
    assert result.ret == 1
    seen = outcome(report, "quitter", "KC-PL-001")["seen"]
    assert "its process ended without one: it exited with status 3" in seen


def test_a_hung_check_costs_its_budget_and_fails(pytester: pytest.Pytester) -> None:
    write_plugin(pytester.path, "sleeper", "import time\ntime.sleep(600)\n" + GOOD)
    result = pytester.runpytest(
        "--kora-conformance", "--kora-plugin", "sleeper", "--kora-timeout", "3",
        "--kora-report", "r.json",
    )  # fmt: skip
    assert result.ret == 1
    report = json.loads((pytester.path / "r.json").read_text())
    assert "still running after 3 s" in outcome(report, "sleeper", "KC-PL-001")["seen"]


def test_marvin_is_unchanged_after_a_plugin_that_sabotages_shared_state(
    pytester: pytest.Pytester,
) -> None:
    write_plugin(
        pytester.path,
        "saboteur",
        """
        import json, logging, os, socket
        import reference_runtime

        reference_runtime.IdentitySpec.__eq__ = lambda self, other: False
        json.dumps = lambda *a, **k: "{}"
        logging.disable(logging.CRITICAL)
        socket.setdefaulttimeout(0.001)
        os.chdir("/")
        os.umask(0o777)
        """,
    )
    (pytester.path / "saboteur" / "__init__.py").write_text(
        textwrap.dedent((pytester.path / "saboteur" / "__init__.py").read_text()) + GOOD
    )
    result, report = certify(pytester, "saboteur", str(MARVIN))
    assert verdicts(report)["marvin"] == "conformant", result.stdout.str()


def test_a_c_extension_that_initialises_once_per_process_certifies(
    pytester: pytest.Pytester,
) -> None:
    # Like numpy: a dependency that fails when imported a second time in one process (here
    # simulated by a module of the plugin; importlib.reload of the plugin itself does not run it
    # again). Each check imports it in a process of its own, for the first time.
    plugin = write_plugin(pytester.path, "oncer", "from . import native\nimport rpds\n" + GOOD)
    (plugin / "native.py").write_text(
        "import builtins\n"
        "if getattr(builtins, '_kct_oncer_initialised', False):\n"
        "    raise ImportError('oncer.native cannot be initialised twice in one process')\n"
        "builtins._kct_oncer_initialised = True\n"
    )
    result, report = certify(pytester, "oncer")
    assert verdicts(report) == {"oncer": "conformant"}, result.stdout.str()


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A loopback listener the test owns; it records every connection it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            accepted.append(str(peer))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


def _routes(port: int) -> dict[str, str]:
    address = f"('127.0.0.1', {port})"
    lines = {
        "raw_c_socket": ["import _socket", f"_socket.socket().connect({address})"],
        "unbound_c_connect": [
            "import _socket",
            "s = _socket.socket()",
            f"_socket.socket.connect(s, {address})",
        ],
        "reloaded_socket": [
            "import importlib, socket",
            "importlib.reload(socket)",
            f"socket.create_connection({address})",
        ],
        "asyncio": ["import asyncio", f"asyncio.run(asyncio.open_connection('127.0.0.1', {port}))"],
        "c_getaddrinfo": ["import _socket", "_socket.getaddrinfo('localhost', 80)"],
        "listening_socket": [
            "import socket",
            "s = socket.socket()",
            "s.bind(('127.0.0.1', 0))",
            "s.listen()",
        ],
        "udp": [
            "import socket",
            f"socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', {address})",
        ],
        "subprocess": ["import subprocess, sys", "subprocess.run([sys.executable, '-c', 'pass'])"],
        "pip_install": [
            "import subprocess, sys",
            "subprocess.run([sys.executable, '-m', 'pip', 'install', 'requests'])",
        ],
        "os_system": ["import os", "os.system('true')"],
        "multiprocessing": [
            "import multiprocessing",
            "multiprocessing.get_context('fork').Process(target=print).start()",
        ],
        "multiprocessing_spawn": [
            "import multiprocessing",
            "multiprocessing.get_context('spawn').Process(target=print).start()",
        ],
        "os_fork": ["import os", "if os.fork() == 0:", "    os._exit(0)"],
        "ctypes_connect": ["import ctypes", "ctypes.CDLL(None).connect"],
        "late_thread": [
            "import socket, threading, time",
            "def later():",
            "    time.sleep(0.2)",
            f"    socket.create_connection({address})",
            "threading.Thread(target=later).start()",
        ],
    }
    return {name: "\n".join(body) + "\n" for name, body in lines.items()}


def _guarded(body: str) -> str:
    # Each route is tried; what the plugin does with the refusal does not matter.
    inner = textwrap.indent(body, "    ")
    return f"try:\n{inner}\nexcept BaseException:\n    pass\n" + GOOD


def test_every_route_out_fails_kc_pl_005_for_that_plugin_alone(
    pytester: pytest.Pytester, listener: tuple[int, list[str]]
) -> None:
    port, accepted = listener
    routes = _routes(port)
    for name, body in routes.items():
        write_plugin(pytester.path, f"route_{name}", _guarded(body))
    write_plugin(pytester.path, "innocent", GOOD)
    # What urllib3 does at import to learn whether IPv6 works: a bind, then close; no server.
    write_plugin(
        pytester.path,
        "ipv6_probe",
        "import socket\ns = socket.socket(socket.AF_INET6)\ns.bind(('::1', 0))\ns.close()\n" + GOOD,
    )
    result, report = certify(pytester, *(f"route_{n}" for n in routes), "innocent", "ipv6_probe")
    failed = {
        t["name"]
        for t in report["targets"]
        for c in t["checks"]
        if c["id"] == "KC-PL-005" and c["outcome"] == "failed"
    }
    assert failed == {f"route_{n}" for n in routes}, result.stdout.str()
    assert outcome(report, "innocent", "KC-PL-005")["outcome"] == "passed"
    assert outcome(report, "ipv6_probe", "KC-PL-005")["outcome"] == "passed"
    assert accepted == []
    assert sys.modules.get("kct_route_marker") is None


def test_a_pytest_skip_from_a_provider_fails_its_check_at_the_plugins_line(
    pytester: pytest.Pytester,
) -> None:
    plugin = write_plugin(
        pytester.path,
        "skipper",
        "import pytest\n\n"
        "def provider(**kwargs):\n"
        "    pytest.skip('not my turn')\n\n"
        "def register(ctx):\n"
        "    ctx.register_identity_provider(provider)\n",
    )
    result, report = certify(pytester, "skipper")
    assert result.ret == 1
    failed = [c for c in report["targets"][0]["checks"] if c["outcome"] == "failed"]
    assert failed, result.stdout.str()
    outcomes = [c for c in failed if "pytest.skip" in c["seen"]]
    assert outcomes, failed
    assert f"(at {plugin / '__init__.py'}:4)" in outcomes[0]["seen"]


def test_a_thread_that_waits_for_the_guard_to_go_never_gets_out(
    pytester: pytest.Pytester, listener: tuple[int, list[str]]
) -> None:
    # Past the grace period a thread's attempts are no longer the plugin's import-time breach,
    # but the process is still the kit's: until it ends, nothing the plugin left running may
    # reach the network. This thread waits, past the grace, for the socket patches to go.
    port, accepted = listener
    body = textwrap.dedent(
        f"""
        import _socket, socket, threading, time

        guarded = socket.socket.connect

        def escape():
            deadline = time.monotonic() + 60
            while socket.socket.connect is guarded and time.monotonic() < deadline:
                time.sleep(0.0005)
            try:
                _socket.socket().connect(('127.0.0.1', {port}))
            except BaseException:
                pass

        def register(ctx):
            ctx.register_hook('on_session_start', lambda **kw: None)
            threading.Thread(target=escape, daemon=True).start()
        """
    )
    write_plugin(pytester.path, "escapee", body)
    result, _ = certify(pytester, "escapee")
    assert accepted == [], result.stdout.str()


def test_a_certification_writes_no_byte_code_into_the_plugin_s_directory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Byte-code writing as Python does it by default (a machine without
    # PYTHONDONTWRITEBYTECODE): the plugin is imported where it lives, and nothing may appear
    # next to its files.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    plugin = pytester.path / "plugins" / "kct_tidy"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text("name: kct_tidy\nversion: 1.0.0\n")
    (plugin / "helpers.py").write_text("def noop(**kwargs):\n    return None\n")
    (plugin / "__init__.py").write_text(
        "from .helpers import noop\n\n\ndef register(ctx):\n"
        "    ctx.register_hook('on_session_start', noop)\n"
    )

    result = pytester.runpytest_subprocess(
        "--kora-conformance", "--kora-plugin", str(plugin), "-p", "no:cacheprovider"
    )

    assert result.ret == 0, result.stdout.str()
    assert sorted(p.name for p in plugin.iterdir()) == ["__init__.py", "helpers.py", "plugin.yaml"]
