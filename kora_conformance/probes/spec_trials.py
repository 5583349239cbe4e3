"""What the runtime's ``IdentitySpec`` must do (contract 1.1), tried the way plugins use it.

The probe ``probe_spec_type`` imports the class from the fork's path (``agent.identity_spec``,
which the runtime provides, contract 2.4) inside ``register`` and runs :func:`trials` on it;
KC-RT-012 reads the journalled results. Plain standard library, so a fork's runtime can load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

__all__ = ["PERSONA", "PROMPT", "trials"]

PERSONA: Final = "A persona (kora-conformance spec probe)."
PROMPT: Final = "You are the kora-conformance spec probe."


def _raises(make: Callable[[], object]) -> BaseException | None:
    try:
        make()
    except Exception as exc:  # noqa: BLE001 - any error is the observation
        return exc
    return None


def _set_field(spec: Any) -> None:
    spec.system_prompt_content = "changed"


def _set_key(spec: Any) -> None:
    spec.identity_metadata["agent_name"] = "changed"


def _construction(spec_type: Any) -> list[str]:
    problems = []
    metadata = {"agent_name": "Probe", "plugin_name": "probe_spec_type"}
    positional = spec_type(PERSONA, PROMPT, metadata)
    keyword = spec_type(
        soul_md_content=PERSONA, system_prompt_content=PROMPT, identity_metadata=metadata
    )
    for how, spec in (("positionally", positional), ("by keyword", keyword)):
        seen = (spec.soul_md_content, spec.system_prompt_content, dict(spec.identity_metadata))
        if seen != (PERSONA, PROMPT, metadata):
            problems.append(f"built {how}, its fields read {seen!r}")
    if positional != keyword:
        problems.append("built positionally and by keyword from the same values, it is unequal")
    bare = spec_type("", PROMPT)
    if bare.soul_md_content != "" or dict(bare.identity_metadata) != {}:
        problems.append(
            f"built with an empty persona and no metadata, it reads "
            f"{bare.soul_md_content!r} and {dict(bare.identity_metadata)!r}"
        )
    return problems


def _read_only(spec_type: Any) -> list[str]:
    problems = []
    metadata = {"agent_name": "Probe"}
    spec = spec_type(PERSONA, PROMPT, metadata)
    changes: tuple[tuple[str, Callable[[Any], None]], ...] = (
        ("assigning a field", _set_field),
        ("setting a metadata key", _set_key),
    )
    for what, change in changes:
        if _raises(functools.partial(change, spec)) is None:
            problems.append(f"{what} succeeded")
    if _raises(lambda: _set_key(spec_type(PERSONA, PROMPT))) is None:
        problems.append("setting a key of the default (empty) metadata succeeded")
    metadata["agent_name"] = "changed by the caller"
    if dict(spec.identity_metadata).get("agent_name") != "Probe":
        problems.append("changing the dict passed in changed the spec's metadata")
    if (spec.system_prompt_content, spec.soul_md_content) != (PROMPT, PERSONA):
        problems.append("the spec's fields changed")
    return problems


#: Bad constructions, and the field each one's error must name.
_BAD: Final[tuple[tuple[str, str, Callable[[Any], object]], ...]] = (
    ("a non-str persona", "soul_md_content", lambda t: t(42, PROMPT)),
    ("a non-str system prompt", "system_prompt_content", lambda t: t(PERSONA, b"bytes")),
    ("a blank system prompt", "system_prompt_content", lambda t: t(PERSONA, " \n\t")),
    ("a non-str metadata key", "identity_metadata", lambda t: t(PERSONA, PROMPT, {1: "x"})),
)


def _bad(spec_type: Any) -> list[str]:
    problems = []
    for what, field, make in _BAD:
        error = _raises(functools.partial(make, spec_type))
        if error is None:
            problems.append(f"{what} was accepted")
        elif field not in str(error):
            problems.append(f"{what} raised an error that does not name {field}: {error!s}")
    return problems


def trials(spec_type: Any) -> list[str]:
    """What ``spec_type`` does wrong, as sentences; empty when it follows contract 1.1."""
    problems = []
    for trial in (_construction, _read_only, _bad):
        try:
            problems += trial(spec_type)
        except Exception as exc:  # noqa: BLE001 - a trial that cannot even run is a finding
            problems.append(f"{trial.__name__.strip('_')} raised {type(exc).__name__}: {exc}")
    return problems
