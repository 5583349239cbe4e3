"""A memory provider: recorded by the host, activated by its memory.provider setting."""


class RecallMemory:
    name = "recall"

    def __init__(self):
        self.turns = []

    def is_available(self):
        return True

    def initialize(self, session_id, **kwargs):
        self.session_id = session_id

    def sync_turn(self, user_content, assistant_content, **kwargs):
        self.turns.append((user_content, assistant_content))

    def prefetch(self, query, **kwargs):
        return "\n".join(user for user, _ in self.turns if query in user)

    def get_tool_schemas(self):
        return []


def register(ctx):
    ctx.register_memory_provider(RecallMemory())
