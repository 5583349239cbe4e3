"""A tool the host never offers (its ``check_fn`` is never true: the hardware it drives is not
there), whose handler raises if called anyway; and one that always answers."""

import json

EMPTY = {"type": "object", "properties": {}}


def has_device():
    return False


def dormant(args, **kwargs):
    msg = "no device attached"
    raise RuntimeError(msg)


def ping(args, **kwargs):
    return json.dumps({"pong": True})


def register(ctx):
    ctx.register_tool("kct_dormant", "kct", {"parameters": EMPTY}, dormant, check_fn=has_device)
    ctx.register_tool("kct_ping", "kct", {"parameters": EMPTY}, ping)
