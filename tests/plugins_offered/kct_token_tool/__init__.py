"""A service tool: offered to the model only when its token is set (``check_fn``); called
without it, the handler raises, which no host does. Configured, it reports a failed lookup as
JSON (the service cannot be reached)."""

import json
import os

LOOKUP = {"type": "object", "properties": {"term": {"type": "string"}}}


def _token():
    token = os.environ.get("KCT_SERVICE_TOKEN", "")
    if not token:
        msg = "the service is not configured: set KCT_SERVICE_TOKEN"
        raise ValueError(msg)
    return token


def configured():
    return bool(os.environ.get("KCT_SERVICE_TOKEN"))


def lookup(args, **kwargs):
    _token()
    return json.dumps({"error": "the service could not be reached", "term": args.get("term")})


def register(ctx):
    ctx.register_tool(
        "kct_lookup",
        "kct",
        {"parameters": LOOKUP},
        lookup,
        check_fn=configured,
        requires_env=["KCT_SERVICE_TOKEN"],
    )
