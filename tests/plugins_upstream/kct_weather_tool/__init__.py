"""A tool plugin: one tool, its function schema, a handler returning a JSON string."""

import json

SCHEMA = {
    "name": "weather_lookup",
    "description": "The forecast for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def weather_lookup(args, **kwargs):
    city = args.get("city", "")
    if not city:
        return json.dumps({"error": "city is required"})
    return json.dumps({"city": city, "forecast": "clear", "task_id": kwargs.get("task_id")})


def register(ctx):
    ctx.register_tool(
        name="weather_lookup",
        toolset="weather",
        schema=SCHEMA,
        handler=weather_lookup,
        description="Look up the forecast",
        emoji="sun",
    )
