"""Conforming: a tool, a slash command and middleware, all registered from ``register`` (so a
reload registers the same ones again)."""

import json

SCHEMA = {
    "name": "kct_echo",
    "description": "Echo the text back.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
}


def echo(args, **kwargs):
    return json.dumps({"text": str(args.get("text", ""))})


def echo_command(raw_args="", **kwargs):
    return raw_args


def audit(request=None, **kwargs):
    return None


def register(ctx):
    ctx.register_tool("kct_echo", "kct", SCHEMA, echo, description="Echo the text back.")
    ctx.register_command("kct-echo", echo_command, description="Echo the arguments.")
    ctx.register_middleware("tool_request", audit)
