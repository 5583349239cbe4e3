"""KC-RT-008, KC-RT-010, KC-RT-011: the engine fires the identity hook once per construction
and sends the resolved identity, persona first, on every request."""

from __future__ import annotations

import reprlib
from typing import Final

from kora_conformance import CheckContext, Suite, always
from kora_conformance.adapter import RuntimeSession
from kora_conformance.harness import Sent, send_captured, system_texts
from kora_conformance.probes import journal
from kora_conformance.probes.common import IDENTITIES
from kora_conformance.suites.runtime._probing import (
    prepare,
    probe_session,
    prompt_file,
    timeline,
)

suite = Suite("runtime")

_MESSAGES_PATH: Final = r"/v1/messages$"
#: Requests sent per engine.
REQUESTS: Final = 2


# --- KC-RT-008 ----------------------------------------------------------------------------------


def _send(session: RuntimeSession, engine: object) -> Sent:
    def send(text: str) -> None:
        session.send(engine, text)

    return send_captured(send, path__regex=_MESSAGES_PATH)


def _build(ctx: CheckContext, session: RuntimeSession, enabled: list[str]) -> object:
    try:
        return session.build_engine()
    except Exception as exc:  # noqa: BLE001 - reported as seen
        ctx.fail(
            expected=f"the engine to build with plugins.enabled = {enabled}",
            seen=f"build_engine raised {type(exc).__name__}: {exc}",
        )


def _judge_constructions(
    ctx: CheckContext, enabled: list[str], engines: list[object], where: str
) -> None:
    for probe in enabled:
        calls = journal.events("identity", probe)
        if len(calls) != len(engines):
            ctx.fail(
                expected=f"{probe}'s identity provider called once per engine construction "
                f"({len(engines)} constructions{where})",
                seen=f"{probe}'s provider was called {len(calls)} times for {len(engines)} "
                f"engine constructions{where}",
                detail=timeline(journal.events()),
            )
        for n, (call, engine) in enumerate(zip(calls, engines, strict=True), 1):
            received = call.data.get("engine")
            if received is not engine:
                ctx.fail(
                    expected=f"{probe}'s provider to receive engine=<the engine being built> "
                    f"at construction {n}{where}",
                    seen=f"engine={reprlib.repr(received)}, not the engine build_engine "
                    f"returned ({reprlib.repr(engine)})",
                )


@suite.check("KC-RT-008", applies=always)
def identity_hook_fired_once(ctx: CheckContext) -> None:
    """Space: the first, second and third engine construction of one runtime, requests after
    them, and a construction in a second runtime: every provider consulted is called once per
    construction (never again by a request), with ``engine=`` the engine being built."""
    prepare(ctx)
    enabled = ["probe_declines", "probe_zulu"]
    with probe_session(ctx, enabled) as session:
        engines = [_build(ctx, session, enabled) for _ in range(2)]
        _judge_constructions(ctx, enabled, engines, "")
        engines.append(_build(ctx, session, enabled))
        _judge_constructions(ctx, enabled, engines, ", a third one included")
        for _ in range(REQUESTS):
            _send(session, engines[0])
        _judge_constructions(ctx, enabled, engines, f", then {REQUESTS} requests")
    journal.clear()
    with probe_session(ctx, enabled) as session:
        engines = [_build(ctx, session, enabled)]
        _judge_constructions(ctx, enabled, engines, " in a second runtime")


# --- KC-RT-010 ----------------------------------------------------------------------------------


@suite.check("KC-RT-010", applies=always)
def persona_on_the_wire(ctx: CheckContext) -> None:
    """Space: the first and second request of an engine, and the first of a second engine of
    the same runtime: each request's system content carries the persona, then the system
    prompt."""
    prepare(ctx)
    zulu = IDENTITIES["probe_zulu"]
    with probe_session(ctx, ["probe_zulu"]) as session:
        for engine_number, requests in ((1, REQUESTS), (2, 1)):
            try:
                engine = session.build_engine()
            except Exception as exc:  # noqa: BLE001 - reported as seen
                ctx.fail(
                    expected="the engine to build with probe_zulu's identity",
                    seen=f"build_engine raised {type(exc).__name__}: {exc}",
                )
            for request in range(1, requests + 1):
                sent = _send(session, engine)
                nth = (
                    ""
                    if (engine_number, request) == (1, 1)
                    else f" (request {request} of engine {engine_number})"
                )
                if sent.body is None:
                    ctx.fail(
                        expected="one Messages API request (POST .../v1/messages) carrying the "
                        f"identity{nth}",
                        seen=f"no request reached the wire ({type(sent.error).__name__}: "
                        f"{sent.error})",
                    )
                system = sent.body.get("system")
                text = "\n".join(system_texts(system))
                persona_at, prompt_at = text.find(zulu.persona), text.find(zulu.system_prompt)
                if persona_at < 0 or prompt_at < 0 or persona_at > prompt_at:
                    where = (
                        "missing"
                        if persona_at < 0
                        else "after the system prompt"
                        if persona_at > prompt_at >= 0
                        else "present"
                    )
                    ctx.fail(
                        expected=f"the request's system content to carry probe_zulu's persona "
                        f"({reprlib.repr(zulu.persona)}) and then its system prompt{nth}",
                        seen=f"the persona is {where}{nth}; system = {reprlib.repr(system)}",
                    )


# --- KC-RT-011 ----------------------------------------------------------------------------------

#: The fallback file's system prompt (KC-RT-011's session where no provider claims).
FALLBACK_PROMPT: Final = "You are the fallback file's identity (a kora-conformance probe)."


def _wire_problems(sent: Sent, prompt: str) -> list[str]:
    """What is wrong with one request's system content for the system prompt ``prompt``."""
    if sent.body is None:
        return [f"no request reached the wire ({type(sent.error).__name__}: {sent.error})"]
    system = sent.body.get("system")
    texts = system_texts(system)
    problems = []
    if not any(prompt in text for text in texts):
        problems.append(f"the system prompt is missing; system = {reprlib.repr(system)}")
    if isinstance(system, list) and any(not text.strip() for text in texts):
        problems.append(
            f"the system content has a blank text block (the API refuses it); system = "
            f"{reprlib.repr(system)}"
        )
    return problems


@suite.check("KC-RT-011", applies=always)
def system_prompt_on_the_wire(ctx: CheckContext) -> None:
    """Space: an identity with a persona (probe_zulu), one with an empty persona (probe_alpha)
    and the fallback file's (no provider claims); for each, the first and second request of
    an engine and the first of a second engine of the same runtime: each request's system
    content carries the system prompt resolved at construction, and no blank text block."""
    prepare(ctx)
    path = prompt_file(ctx, "kc-wire-fallback.md", FALLBACK_PROMPT + "\n")
    cases = (
        ("probe_zulu", IDENTITIES["probe_zulu"].system_prompt, None),
        ("probe_alpha", IDENTITIES["probe_alpha"].system_prompt, None),
        ("probe_declines", FALLBACK_PROMPT, path),
    )
    for plugin, prompt, fallback in cases:
        source = f"the fallback file {fallback}" if fallback else f"{plugin}'s identity"
        with probe_session(ctx, [plugin]) as session:
            for engine_number, requests in ((1, REQUESTS), (2, 1)):
                try:
                    engine = session.build_engine(system_prompt_path=fallback)
                except Exception as exc:  # noqa: BLE001 - reported as seen
                    ctx.fail(
                        expected=f"the engine to build with {source}",
                        seen=f"build_engine raised {type(exc).__name__}: {exc}",
                    )
                for request in range(1, requests + 1):
                    problems = _wire_problems(_send(session, engine), prompt)
                    if problems:
                        ctx.fail(
                            expected=f"request {request} of engine {engine_number} to carry "
                            f"{source}'s system prompt ({reprlib.repr(prompt)}) in its system "
                            "content",
                            seen=f"request {request} of engine {engine_number}: "
                            + "; ".join(problems),
                            detail="identity is resolved once, at construction; every request "
                            "sends it",
                        )
