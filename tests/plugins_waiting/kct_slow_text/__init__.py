"""A tool that takes a moment (well within any bound on a call), then returns plain text
where JSON is due: a breach however long it took."""

import threading

PONDER = {"type": "object", "properties": {"topic": {"type": "string"}}}


def ponder(args, **kwargs):
    threading.Event().wait(0.2)
    return "I thought about it"


def register(ctx):
    ctx.register_tool("kct_ponder", "kct", {"parameters": PONDER}, ponder)
