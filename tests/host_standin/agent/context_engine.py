"""The stand-in host's context-engine base class."""

from __future__ import annotations

import abc
from typing import Any


class ContextEngine(abc.ABC):
    """Compresses the conversation when it grows past the model's context."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The key ``context.engine`` names."""

    @abc.abstractmethod
    def compress(self, messages: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
        """The messages, compressed."""
