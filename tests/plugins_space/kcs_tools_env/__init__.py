"""Tools at the edges: a schema with $defs, a cache that stays JSON, a tool registered once
more with the same handler, one registered when a session starts; the environment declared."""

import json
import math
import os

REGION_VARIABLE = "KCS_REGION"
_CACHE = {}

CONVERT = {
    "name": "kcs_convert",
    "description": "Convert a length.",
    "parameters": {
        "type": "object",
        "properties": {"value": {"type": "number"}, "unit": {"$ref": "#/$defs/unit"}},
        "$defs": {"unit": {"type": "string", "enum": ["m", "km"]}},
    },
}
TEXT = {"type": "object", "properties": {"text": {"type": "string"}}}


def convert(args, **kwargs):
    value = args.get("value", 0)
    if not math.isfinite(value):
        return json.dumps({"error": "not a finite number"})
    factor = 1000 if args.get("unit") == "km" else 1
    return json.dumps({"metres": value * factor})


def cached(args, **kwargs):
    text = str(args.get("text", ""))
    if text not in _CACHE:
        _CACHE[text] = json.dumps({"length": len(text)})
    return _CACHE[text]


def late(args, **kwargs):
    try:
        token = os.environ["KCS_TOKEN"]
    except KeyError:
        return json.dumps({"error": "KCS_TOKEN is not set"})
    return json.dumps({"token_length": len(token), "debug": os.environ.get("KCS_DEBUG")})


def register(ctx):
    ctx.register_tool("kcs_convert", "kcs", CONVERT, convert)
    ctx.register_tool("kcs_cached", "kcs", {"parameters": TEXT}, cached)
    # Registered again, the same handler: a re-registration, not a collision.
    ctx.register_tool("kcs_cached", "kcs", {"parameters": TEXT}, cached)

    def on_session_start(**kwargs):
        if ctx.tool_handler("kcs_late") is None:
            ctx.register_tool("kcs_late", "kcs", {"parameters": TEXT}, late)
        os.environ.get(REGION_VARIABLE)

    ctx.register_hook("on_session_start", on_session_start)
