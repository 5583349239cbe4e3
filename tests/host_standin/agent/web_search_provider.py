"""The stand-in host's web-search base class: an abstract ``name`` and ``is_available``."""

from __future__ import annotations

import abc


class WebSearchProvider(abc.ABC):
    """A web search backend, keyed by ``name``."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The key ``web.search_backend`` names."""

    @abc.abstractmethod
    def is_available(self) -> bool:
        """Whether the backend can serve calls: a local check."""
