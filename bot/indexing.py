"""The search index as the settings configure it: the "nothing found" threshold and the semantic signal."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings, SettingsError
from search import SearchIndex
from search.persist import SavedIndex


def new_index(settings: Settings, folder: Path | None = None) -> SearchIndex:
    """An empty index, saved in `folder` when one is given (see bot/index_files.py); SettingsError
    when SEMANTIC_SEARCH is on without the `semantic` extra."""
    embedder = None
    if settings.semantic_search:
        from search.semantic import E5Embedder

        try:
            embedder = E5Embedder()
        except ImportError as error:
            raise SettingsError(f"SEMANTIC_SEARCH is on, but {error}.") from None
    if folder is not None:
        return SavedIndex(folder, min_coverage=settings.min_query_coverage, embedder=embedder)
    return SearchIndex(min_coverage=settings.min_query_coverage, embedder=embedder)
