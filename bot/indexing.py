"""The search index as the settings configure it: the "nothing found" threshold and the semantic signal."""

from __future__ import annotations

from bot.settings import Settings, SettingsError
from search import SearchIndex


def new_index(settings: Settings) -> SearchIndex:
    """An empty index; SettingsError when SEMANTIC_SEARCH is on without the `semantic` extra."""
    embedder = None
    if settings.semantic_search:
        from search.semantic import E5Embedder

        try:
            embedder = E5Embedder()
        except ImportError as error:
            raise SettingsError(f"SEMANTIC_SEARCH is on, but {error}.") from None
    return SearchIndex(min_coverage=settings.min_query_coverage, embedder=embedder)
