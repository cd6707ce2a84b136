"""The search index as the settings configure it: the "nothing found" threshold and the semantic signal,
whose passage embeddings the store keeps."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.settings import Settings, SettingsError
from bot.stores.store import Store
from bot.stores.types import StoreUnavailable
from search import SearchIndex
from search.persist import SavedIndex

log = logging.getLogger(__name__)
VECTOR_TYPE = np.dtype("<f4")  # float32, little-endian whatever the machine


def new_index(settings: Settings, folder: Path | None = None) -> SearchIndex:
    """An empty index, saved in `folder` when one is given (see bot/news/saved_index.py); SettingsError
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


class StoredVectors:
    """The store as the index's `VectorKeeper`: passage embeddings computed once (at ingest, or at the
    first start that lacks them) and read back at every later start. A store that fails costs only
    time: the embeddings are computed (and kept the next time)."""

    def __init__(self, store: Store, model: str) -> None:
        self.store = store
        self.model = model

    def kept(self, article_ids: Sequence[str]) -> dict[str, dict[int, np.ndarray]]:
        try:
            found = self.store.articles.vectors_for(article_ids, self.model)
        except StoreUnavailable as error:
            log.warning("Passage embeddings not read from the store (%s): computing them", error)
            return {}
        return {
            article_id: {position: np.frombuffer(raw, VECTOR_TYPE) for position, raw in vectors.items()}
            for article_id, vectors in found.items()
        }

    def keep(self, article_id: str, vectors: dict[int, np.ndarray]) -> None:
        raw = {position: np.asarray(vector, VECTOR_TYPE).tobytes() for position, vector in vectors.items()}
        try:
            self.store.articles.save_vectors(article_id, self.model, raw)
        except StoreUnavailable as error:
            log.warning("Passage embeddings of %s not kept in the store (%s)", article_id, error)


def keep_vectors_in(index: SearchIndex, store: Store) -> None:
    """With a semantic signal, `index` takes the embeddings `store` keeps and hands it those it computes."""
    if index.embedder is not None:
        index.keeper = StoredVectors(store, index.embedder.model)
