"""The daemon checks judge shapes beyond the shipped mutants the way contract 3 says.

One ``pytest --kora-conformance`` subprocess certifies a set of small plugins written here:
legitimate shapes the checks must not flag (a listener-side task calling the primary task's
method, a listener without a daemon entry, a non-``DaemonListener`` object on both sides, a task
that always raises) and further ways to break them (a lambda startup, a listener that schedules
its primary task itself, ``functools.partial`` on one side, one task name on both sides, a
callback cancelling its own driver, ``SystemExit`` from a callback, a startup that needs its
coordinator).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

HEADER = "from reference_runtime import DaemonListener, PeriodicTaskSpec\n"

#: Plugin name → (source, the checks it must fail or warn, text its report must contain).
PLUGINS: dict[str, tuple[str, set[str], str]] = {
    "one_shot": (
        """
        class Once:
            started = False

            def startup(self, coordinator=None):
                if self.started:
                    raise RuntimeError("a one-shot daemon starts once per process")
                self.started = True

            def shutdown(self):
                pass

        ONCE = Once()

        def register(ctx):
            ctx.register_background_daemon("once", ONCE.startup, ONCE.shutdown)
        """,
        set(),
        "",
    ),
    "crashes_without_coordinator": (
        """
        class Needy:
            def startup(self, coordinator=None):
                coordinator.clock  # startup() (no coordinator) fails, on every start

            def shutdown(self):
                pass

        NEEDY = Needy()

        def register(ctx):
            ctx.register_background_daemon("needy", NEEDY.startup, NEEDY.shutdown)
        """,
        {"KC-DM-002"},
        "startup() raised AttributeError",
    ),
    "nested_rollup": (
        """
        class Tele(DaemonListener):
            def persist(self):
                pass

            def rollup(self):
                self.persist()  # a task using another's work is not that task twice

        def register(ctx):
            tele = Tele.instance()
            ctx.register_dual_listener(
                "tele",
                tele,
                periodic_task=PeriodicTaskSpec(300, tele.persist, "tele.persist"),
                listener_side_tasks=[PeriodicTaskSpec(3600, tele.rollup, "tele.rollup")],
            )
        """,
        set(),
        "",
    ),
    "listener_only": (
        """
        class Feed:
            async def startup(self, coordinator=None):
                pass

            async def shutdown(self):
                pass

        FEED = Feed()

        def register(ctx):
            ctx.register_listener("feed", lambda: (FEED.startup, FEED.shutdown, 3.0))
        """,
        set(),
        "",
    ),
    "plain_object": (
        """
        class Conn:
            async def startup(self, coordinator=None):
                pass

            async def shutdown(self):
                pass

        CONN = Conn()

        def register(ctx):
            ctx.register_background_daemon("conn", CONN.startup, CONN.shutdown)
            ctx.register_listener("conn", lambda: (CONN.startup, CONN.shutdown))
        """,
        set(),
        "",
    ),
    "always_raises": (
        """
        async def start(coordinator=None):
            pass

        async def stop():
            pass

        def flaky():
            raise RuntimeError("upstream down")

        def register(ctx):
            ctx.register_background_daemon(
                "flaky", start, stop, periodic_task=PeriodicTaskSpec(10, flaky, "flaky.run")
            )
        """,
        set(),
        "",
    ),
    "lambda_callbacks": (
        """
        def register(ctx):
            ctx.register_background_daemon("lam", lambda coordinator=None: None, lambda: None)
        """,
        {"KC-DM-004"},
        "define its callbacks at module level",
    ),
    "own_schedule": (
        """
        import asyncio

        class Box(DaemonListener):
            def __init__(self):
                self.loop = None

            async def startup(self, coordinator=None):
                if coordinator is not None:
                    self.loop = asyncio.ensure_future(self._every_minute(coordinator))

            async def _every_minute(self, coordinator):
                while True:
                    await coordinator.clock.sleep(60)
                    await self.poll()

            async def shutdown(self):
                if self.loop is not None:
                    self.loop.cancel()

            async def poll(self):
                pass

        def register(ctx):
            box = Box.instance()
            ctx.register_dual_listener(
                "box", box, periodic_task=PeriodicTaskSpec(60, box.poll, "box.poll")
            )
        """,
        {"KC-DM-006"},
        "outside the coordinator's drivers",
    ),
    "partial_twice": (
        """
        import functools

        class Mail(DaemonListener):
            def fetch(self):
                pass

        def register(ctx):
            mail = Mail.instance()
            ctx.register_dual_listener(
                "mail",
                mail,
                periodic_task=PeriodicTaskSpec(60, mail.fetch, "mail.fetch"),
                listener_side_tasks=[
                    PeriodicTaskSpec(60, functools.partial(mail.fetch), "mail.fetch.again")
                ],
            )
        """,
        {"KC-DM-006"},
        "also runs from task 'mail.fetch.again'",
    ),
    "one_name_twice": (
        """
        class Sync(DaemonListener):
            def push(self):
                pass

            def pull(self):
                pass

        def register(ctx):
            sync = Sync.instance()
            ctx.register_dual_listener(
                "sync",
                sync,
                periodic_task=PeriodicTaskSpec(60, sync.push, "sync.run"),
                listener_side_tasks=[PeriodicTaskSpec(60, sync.pull, "sync.run")],
            )
        """,
        {"KC-DM-006"},
        "'sync.run' fires twice per interval",
    ),
    "cancels_itself": (
        """
        import asyncio

        async def start(coordinator=None):
            pass

        async def stop():
            pass

        CALLS = [0]

        async def tick():
            CALLS[0] += 1
            if CALLS[0] == 2:
                raise asyncio.CancelledError()

        def register(ctx):
            ctx.register_background_daemon(
                "ticker", start, stop, periodic_task=PeriodicTaskSpec(10, tick, "ticker.tick")
            )
        """,
        {"KC-DM-005"},
        "it stopped firing after t=10 s",
    ),
    "exits": (
        """
        async def start(coordinator=None):
            pass

        async def stop():
            pass

        def quit_():
            raise SystemExit(3)

        def register(ctx):
            ctx.register_background_daemon(
                "quitter", start, stop, periodic_task=PeriodicTaskSpec(10, quit_, "quitter.run")
            )
        """,
        {"KC-DM-005"},
        "the run was ended by SystemExit: 3",
    ),
    "needs_its_coordinator": (
        """
        async def start(coordinator=None):
            coordinator.clock  # noqa: B018 - crashes when called bare

        async def stop():
            pass

        def register(ctx):
            ctx.register_background_daemon("needy", start, stop)
        """,
        {"KC-DM-002"},
        "startup() raised AttributeError",
    ),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    workdir = tmp_path_factory.mktemp("kit-daemons")
    args = [sys.executable, "-m", "pytest", "--kora-conformance", "-p", "no:cacheprovider"]
    for name, (source, _, _) in PLUGINS.items():
        directory = workdir / "plugins" / name
        directory.mkdir(parents=True)
        (directory / "plugin.yaml").write_text(f"name: {name}\nversion: '0.1'\nhooks: []\n")
        (directory / "__init__.py").write_text(HEADER + textwrap.dedent(source))
        args += ["--kora-plugin", str(directory)]
    args += ["--kora-report", "r.json"]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KORA_", "ANTHROPIC_", "PYTEST_"))
    }
    env["HOME"] = str(workdir)
    done = subprocess.run(
        args, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert (workdir / "r.json").is_file(), output
    return json.loads((workdir / "r.json").read_text(encoding="utf-8")), output


@pytest.mark.parametrize("name", PLUGINS)
def test_each_plugin_breaks_exactly_the_expected_daemon_checks(
    report: tuple[dict[str, Any], str], name: str
) -> None:
    data, output = report
    target = next(t for t in data["targets"] if t["name"] == name)
    broken = {c["id"] for c in target["checks"] if c["outcome"] in {"failed", "warned"}}
    _, expected, text = PLUGINS[name]

    assert broken == expected, target
    assert target["verdict"] == ("not-conformant" if expected else "conformant")
    if text:
        messages = " ".join(c["message"] for c in target["checks"] if c["id"] in expected)
        assert text in messages or text in output, target
