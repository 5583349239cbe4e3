"""KC-PL-022: the skills a plugin registers, as the host serves them.

A plugin skill is a ``SKILL.md`` the model loads by name (``<plugin>:<skill>``): upstream's
``skill_view`` reads the registered file as UTF-8 text and hands it over, and answers with an
error when it cannot. The registration rule (``skill.path``) holds only that the file exists
when ``register`` runs; this check reads it the way the host does.
"""

from __future__ import annotations

from pathlib import Path

from kora_conformance import CheckContext, Profile, Suite, needs_load
from reference_runtime import Registration

suite = Suite("skills")


def needs_skills(profile: Profile) -> str | None:
    """Skip plugins that register no skill."""
    if (reason := needs_load(profile)) is not None:
        return reason
    return None if profile.count("skill") else "registers no skills"


def skill_file(record: Registration) -> Path:
    """The ``SKILL.md`` a skill registration names: the path, or the directory's SKILL.md."""
    path = Path(record["path"])
    return path / "SKILL.md" if path.is_dir() else path


def skill_problem(record: Registration) -> str | None:
    """Why the host could not serve ``record``'s skill, or ``None``."""
    path = skill_file(record)
    label = f"skill {record.key!r} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return f"{label} is not UTF-8 text ({exc.reason} at byte {exc.start})"
    except OSError as exc:
        return f"{label} cannot be read: {type(exc).__name__}: {exc.strerror or exc}"
    if not text.strip():
        return f"{label} is empty: the model that loads it gets nothing"
    return None


@suite.check("KC-PL-022", applies=needs_skills)
def skills_can_be_served(ctx: CheckContext) -> None:
    """Space: every skill the plugin registers, by a file path or a directory holding
    SKILL.md, read after ``register`` returned as the host reads it on each load: a file that
    is missing by then, unreadable, not UTF-8, or blank."""
    runtime, _, _ = ctx.load()
    problems = [
        problem
        for record in runtime.registrations(ctx.target.name, kind="skill")
        if (problem := skill_problem(record)) is not None
    ]
    ctx.fail_if(
        problems,
        expected="each registered skill's SKILL.md readable as UTF-8 text, and not blank",
        detail="the host answers a model that loads such a skill with an error, or with nothing",
    )
