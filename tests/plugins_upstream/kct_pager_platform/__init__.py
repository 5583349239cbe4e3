"""A platform plugin: an adapter factory, an availability check and a config validator."""

import os


class PagerAdapter:
    def __init__(self, config):
        self.config = config
        self.sent = []

    async def connect(self):
        return True

    async def send(self, chat_id, text, **kwargs):
        self.sent.append((chat_id, text))
        return {"ok": True}


def available():
    return bool(os.environ.get("PAGER_TOKEN"))


def validate(config):
    return "token" in config


def register(ctx):
    ctx.register_platform(
        name="pager",
        label="Pager",
        adapter_factory=PagerAdapter,
        check_fn=available,
        validate_config=validate,
        required_env=["PAGER_TOKEN"],
        install_hint="pip install pager-sdk",
    )
