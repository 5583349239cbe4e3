"""A command plugin: /note keeps its raw argument string, /recall (async) lists the notes."""

NOTES = []


def note(raw_args):
    NOTES.append(raw_args)
    return f"noted: {raw_args}"


async def recall(raw_args):
    return " | ".join(NOTES) or "no notes"


def register(ctx):
    ctx.register_command("note", note, description="Keep a note", args_hint="<text>")
    ctx.register_command("recall", recall, description="Show the notes")
