"""BM25 variants as small pure functions, numerically the same as rank-bm25's classes.

Each variant gives an idf for a term and a weight for a term frequency; BM25Okapi and BM25Plus also bound
what a term can add (`max_gain`), which lets the index skip passages that cannot reach the top (BM25L's
weight grows with tf without bound). `tf_weight` at tf = 0 is the part that rank-bm25 adds to every
passage, matching or not (BM25L and BM25Plus): the index adds it as a constant so scores equal
rank-bm25's, and ranks only the passages that contain a query term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def saturated_gain(variant: BM25Okapi | BM25Plus) -> float:
    """What one term can add at most in BM25Okapi and BM25Plus (tf_weight minus its value at tf = 0),
    whatever tf and length: tf (k1 + 1) / (tf + k1 norm) stays below k1 + 1."""
    return variant.k1 + 1


@dataclass(frozen=True)
class BM25Okapi:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    name: str = "BM25Okapi"

    max_gain = property(saturated_gain)

    def idf(self, n_docs: int, df: np.ndarray, all_df: np.ndarray) -> np.ndarray:
        """rank-bm25 floors negative idfs at epsilon times the average idf of the whole vocabulary."""
        raw = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
        every = np.log(n_docs - all_df + 0.5) - np.log(all_df + 0.5)
        floor = self.epsilon * float(every.mean()) if every.size else 0.0
        return np.where(raw < 0, floor, raw)

    def tf_weight(self, tf: np.ndarray, doc_len: np.ndarray, avgdl: float) -> np.ndarray:
        return tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * doc_len / avgdl))


@dataclass(frozen=True)
class BM25L:
    k1: float = 1.5
    b: float = 0.75
    delta: float = 0.5
    name: str = "BM25L"

    def idf(self, n_docs: int, df: np.ndarray, all_df: np.ndarray) -> np.ndarray:
        return np.log(n_docs + 1) - np.log(df + 0.5)

    def tf_weight(self, tf: np.ndarray, doc_len: np.ndarray, avgdl: float) -> np.ndarray:
        """As rank-bm25 computes it: the (k1+1)(ctd+delta)/(k1+ctd+delta) of the paper, times tf."""
        ctd = tf / (1 - self.b + self.b * doc_len / avgdl)
        return tf * (self.k1 + 1) * (ctd + self.delta) / (self.k1 + ctd + self.delta)


@dataclass(frozen=True)
class BM25Plus:
    k1: float = 1.5
    b: float = 0.75
    delta: float = 1.0
    name: str = "BM25Plus"

    max_gain = property(saturated_gain)

    def idf(self, n_docs: int, df: np.ndarray, all_df: np.ndarray) -> np.ndarray:
        return np.log(n_docs + 1) - np.log(df)

    def tf_weight(self, tf: np.ndarray, doc_len: np.ndarray, avgdl: float) -> np.ndarray:
        return self.delta + tf * (self.k1 + 1) / (self.k1 * (1 - self.b + self.b * doc_len / avgdl) + tf)


Scorer = BM25Okapi | BM25L | BM25Plus
VARIANTS: dict[str, Scorer] = {v.name: v for v in (BM25Okapi(), BM25L(), BM25Plus())}
