"""A plugin that registers several kinds: tool, hook, middleware, skill, prompt section, CLI
command, approval transport, web search provider, context engine and a command that dispatches
its own tool; it reads its settings and checks for a model."""

import json
from pathlib import Path

try:  # the host's base classes, where the host is installed (upstream ignores other objects)
    from agent.context_engine import ContextEngine
    from agent.web_search_provider import WebSearchProvider
except ImportError:
    ContextEngine = WebSearchProvider = object

SEEN = []
SKILL = Path(__file__).parent / "skills" / "triage" / "SKILL.md"


class EchoSearch(WebSearchProvider):
    name = "echo-search"

    def is_available(self):
        return True

    def search(self, query, **kwargs):
        return [{"title": query, "url": "about:blank"}]


class TrimmingEngine(ContextEngine):
    name = "trimming"

    def compress(self, messages, **kwargs):
        return messages[-4:]


def register(ctx):
    prefix = ctx.get_config("prefix", "?")

    def echo(args, **kwargs):
        return json.dumps({"echo": f"{prefix}:{args.get('text', '')}"})

    ctx.register_tool(
        "toolbox_echo",
        "toolbox",
        {"name": "toolbox_echo", "parameters": {"type": "object"}},
        echo,
    )
    ctx.register_hook("post_tool_call", lambda **kwargs: SEEN.append(kwargs.get("tool_name")))
    ctx.register_middleware("tool_request", lambda request, **kwargs: {"request": request})
    ctx.register_skill("triage", SKILL, description="Sort incoming issues")
    ctx.register_system_prompt_section("toolbox_rules", "Prefer toolbox tools.", max_chars=200)
    ctx.register_cli_command(
        "toolbox", "Toolbox maintenance", setup_fn=lambda parser: None, handler_fn=print
    )
    ctx.register_approval_transport("toolbox_pager", lambda request, **kwargs: "approve")
    ctx.register_web_search_provider(EchoSearch())
    ctx.register_context_engine(TrimmingEngine())
    ctx.register_command("echo", lambda raw: ctx.dispatch_tool("toolbox_echo", {"text": raw}))
    ctx.set_config("model_seen", ctx.llm.available)
