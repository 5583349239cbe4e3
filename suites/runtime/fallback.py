"""KC-RT-003, KC-RT-009: the fallback system prompt file, and where the identity came from."""

from __future__ import annotations

import itertools
import reprlib
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.adapter import RuntimeSession
from kora_conformance.probes import generated
from kora_conformance.suites.runtime._generated import Installed, install
from kora_conformance.suites.runtime._probing import (
    ENV_PROMPT_PATH,
    prepare,
    probe_session,
    prompt_file,
    resolve,
    set_prompt_path_env,
)

suite = Suite("runtime")

#: The only probe enabled while the fallback is read: it declines.
DECLINES: Final = ["probe_declines"]
#: The same, generated alone in a directory of its own (a session reads one manifest).
G_DECLINES: Final = "kcb_declines"


def _session(
    ctx: CheckContext, default: Path, alone: Installed | None
) -> AbstractContextManager[RuntimeSession]:
    if alone is None:
        return probe_session(ctx, DECLINES, default=default)
    return probe_session(
        ctx, [G_DECLINES], default=default, extra_dirs=(alone.plugin_dir,), static=False
    )


def _setting(default: Path, env: str | None, argument: Path | None) -> str:
    variable = "unset" if env is None else repr(env)
    return (
        f"default path: {default}\n{ENV_PROMPT_PATH}: {variable}\n"
        f"system_prompt_path argument: {argument if argument is not None else 'none'}\n"
        "no provider claims (the one plugin enabled declines)"
    )


class _Files:
    """The check's prompt files: present ones with distinct texts, a blank one, a missing one."""

    def __init__(self, ctx: CheckContext) -> None:
        self.default = prompt_file(ctx, "default-prompt.md", "DEFAULT fallback prompt (kit)\n")
        self.env = prompt_file(ctx, "env-prompt.md", "ENV fallback prompt (kit)\n")
        self.arg = prompt_file(ctx, "arg-prompt.md", "ARGUMENT fallback prompt (kit)\n")
        self.blank = prompt_file(ctx, "blank-prompt.md", "  \n\t\n")
        self.missing = ctx.sandbox.scratch / "missing-prompt.md"
        self.texts = {
            p: p.read_text(encoding="utf-8").strip() for p in (self.default, self.env, self.arg)
        }

    def which(self, prompt: str) -> Path | None:
        return next((p for p, t in self.texts.items() if t == prompt.strip()), None)


def _judge(
    files: _Files,
    what: str,
    session: RuntimeSession,
    argument: Path | None,
    chosen: Path,
) -> tuple[str, str] | None:
    """``(expected, seen)`` when resolving with ``argument`` does not read ``chosen`` (or, for a
    file that is missing or blank, raise an error naming it and the variable)."""
    try:
        outcome = session.resolve_identity(system_prompt_path=argument)
    except Exception as exc:  # noqa: BLE001 - any error type will do; its message counts
        if chosen in files.texts:
            return (
                f"{what}: the fallback file {chosen} is read ({reprlib.repr(files.texts[chosen])})",
                f"identity resolution raised {type(exc).__name__}: {exc}",
            )
        message = str(exc)
        absent = [w for w in (str(chosen), ENV_PROMPT_PATH) if w not in message]
        if absent:
            return (
                f"{what}: an error whose message names the path {chosen} and the variable "
                f"{ENV_PROMPT_PATH}",
                f"the message lacks {' and '.join(absent)}: {message!r}",
            )
        return None
    seen = files.which(outcome.system_prompt)
    if chosen not in files.texts:
        return (
            f"{what}: an error naming {chosen}",
            f"resolution succeeded with the prompt {reprlib.repr(outcome.system_prompt)}"
            + (f" (from {seen})" if seen is not None else "")
            + " (fail closed, never an empty or substitute prompt)",
        )
    if outcome.system_prompt.strip() != files.texts[chosen]:
        return (
            f"{what}: the fallback file {chosen} is read ({reprlib.repr(files.texts[chosen])})",
            f"{seen} was read instead"
            if seen is not None
            else f"the prompt {reprlib.repr(outcome.system_prompt)}",
        )
    return None


# --- KC-RT-003 ----------------------------------------------------------------------------------


@suite.check("KC-RT-003", applies=always)
def fallback_file(ctx: CheckContext) -> None:
    """Space: every combination of the default (a file, missing, blank), the variable (unset,
    blank, a file, a missing file, a blank file; set before the runtime starts) and the
    argument (none, a file, a missing file, a blank file): the highest source given is the one
    read (the argument, else a non-blank variable, else the default), and a missing or blank
    one is an error naming its path and the variable, never a fall-through to the next."""
    prepare(ctx)
    files = _Files(ctx)
    alone = install(ctx, [(G_DECLINES, "directory")], label="fallback")
    generated.BEHAVIOUR.clear()
    generated.BEHAVIOUR[G_DECLINES] = "declines"
    defaults: dict[str, Path] = {
        "the default exists": files.default,
        "the default is missing": files.missing,
        "the default is blank": files.blank,
    }
    variables: dict[str, str | None] = {
        f"{ENV_PROMPT_PATH} unset": None,
        f"{ENV_PROMPT_PATH} names a file": str(files.env),
        f"{ENV_PROMPT_PATH} blank": " \t",
        f"{ENV_PROMPT_PATH} names a missing file": str(files.missing),
        f"{ENV_PROMPT_PATH} names a blank file": str(files.blank),
    }
    arguments: dict[str, Path | None] = {
        "no argument": None,
        "the argument names a file": files.arg,
        "the argument names a missing file": files.missing,
        "the argument names a blank file": files.blank,
    }
    for (d_what, default_path), (v_what, env) in itertools.product(
        defaults.items(), variables.items()
    ):
        set_prompt_path_env(env)
        with _session(ctx, default_path, alone) as session:
            for a_what, argument in arguments.items():
                chosen = (
                    argument
                    if argument is not None
                    else Path(env)
                    if env is not None and env.strip()
                    else default_path
                )
                finding = _judge(files, f"{d_what}, {v_what}, {a_what}", session, argument, chosen)
                if finding is not None:
                    expected, seen = finding
                    ctx.fail(
                        expected=expected,
                        seen=seen,
                        detail=_setting(default_path, env, argument),
                    )


# --- KC-RT-009 ----------------------------------------------------------------------------------


@suite.check("KC-RT-009", applies=always)
def identity_source_reported(ctx: CheckContext) -> None:
    """Space: a plugin's claim after a declining provider, and the fallback file from each of
    its three sources (the argument, the variable, the default): the plugin reported is the one
    that won and the path reported is the file actually read."""
    prepare(ctx)
    enabled = ["probe_declines", "probe_zulu"]
    with probe_session(ctx, enabled) as session:
        outcome = resolve(ctx, session, enabled)
    if outcome.source != "plugin" or outcome.plugin != "probe_zulu":
        ctx.fail(
            expected="the resolved identity to report source='plugin', plugin='probe_zulu'",
            seen=f"source={outcome.source!r}, plugin={outcome.plugin!r}",
        )
    files = _Files(ctx)
    cases: tuple[tuple[str, str | None, Path | None, Path], ...] = (
        ("the default", None, None, files.default),
        (ENV_PROMPT_PATH, str(files.env), None, files.env),
        ("the system_prompt_path argument", str(files.env), files.arg, files.arg),
    )
    for what, env, argument, meant in cases:
        set_prompt_path_env(env)
        with probe_session(ctx, DECLINES, default=files.default) as session:
            outcome = resolve(ctx, session, DECLINES, system_prompt_path=argument)
        path = outcome.path
        # The file whose text came back is the one to report (which file should have been
        # read is KC-RT-003's question).
        read = files.which(outcome.system_prompt) or meant
        if outcome.source != "file" or path is None or Path(path).resolve() != read.resolve():
            ctx.fail(
                expected=f"the fallback identity read from {what} to report source='file', "
                f"path={str(read)!r}",
                seen=f"source={outcome.source!r}, path={None if path is None else str(path)!r}",
                detail=_setting(files.default, env, argument),
            )
