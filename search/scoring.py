"""BM25 variants as small pure functions, numerically the same as rank-bm25's classes.

Each variant gives an idf for a term and a weight for a term frequency; BM25Okapi and BM25Plus also bound
what a term can add (`max_gain`), which lets the index skip passages that cannot reach the top (BM25L's
weight grows with tf without bound). `tf_weight` at tf = 0 is the part that rank-bm25 adds to every
passage, matching or not (BM25L and BM25Plus): the index adds it as a constant so scores equal
rank-bm25's, and ranks only the passages that contain a query term.

`Postings` is what they score: the inverted index under `SearchIndex` (search/index.py), each term's
passages in compact arrays, summed in C (search/native.py), with max-score pruning for the commonest terms.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import chain

import numpy as np

from search import native
from search.models import PassageKind


@dataclass(frozen=True)
class _Saturating:
    """BM25Okapi's and BM25Plus's parameters, and what one term can add at most in them (`max_gain`:
    tf_weight minus its value at tf = 0, whatever tf and length: tf (k1 + 1) / (tf + k1 norm) stays below
    k1 + 1). BM25L has no such bound."""

    k1: float = 1.5
    b: float = 0.75

    @property
    def max_gain(self) -> float:
        return self.k1 + 1


@dataclass(frozen=True)
class BM25Okapi(_Saturating):
    epsilon: float = 0.25
    name: str = "BM25Okapi"

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
class BM25Plus(_Saturating):
    delta: float = 1.0
    name: str = "BM25Plus"

    def idf(self, n_docs: int, df: np.ndarray, all_df: np.ndarray) -> np.ndarray:
        return np.log(n_docs + 1) - np.log(df)

    def tf_weight(self, tf: np.ndarray, doc_len: np.ndarray, avgdl: float) -> np.ndarray:
        return self.delta + tf * (self.k1 + 1) / (self.k1 * (1 - self.b + self.b * doc_len / avgdl) + tf)


Scorer = BM25Okapi | BM25L | BM25Plus
VARIANTS: dict[str, Scorer] = {v.name: v for v in (BM25Okapi(), BM25L(), BM25Plus())}


# A photo caption names people and places but is a weaker source than the article's own text.
KIND_PRIORS = {"caption": 0.5}  # at most 1: pruning (`_lookups`) counts on it
KINDS: tuple[PassageKind, ...] = ("body", "list", "heading", "caption", "embed")
KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
HEADING = KIND_CODES["heading"]
PRIOR_BY_KIND = np.array([KIND_PRIORS.get(kind, 1.0) for kind in KINDS])
# Pruning can skip only the most common terms' postings, and pays for that with a search per passage
# for each skipped term: it is quicker than reading every posting in C only for a query with 40,000
# postings or more of which one term holds 90% (benchmarks/engines_bench.py --pruning).
PRUNE_FROM_POSTINGS = 40_000
PRUNE_SHARE = 0.9


class TermPostings:
    """The passages (doc numbers) that contain one term, and how often."""

    __slots__ = ("docs", "tfs")

    def __init__(self) -> None:
        self.docs = array("i")
        self.tfs = array("H")


class Postings:
    """The inverted index under `SearchIndex`: for each term the passages (doc numbers) that contain it
    and how often, with what BM25 reads of each passage (its length, its kind, whether it was removed),
    and the scoring of a query's terms over them. The index appends a passage's columns as it inserts
    it; a query reads only the postings of its own terms."""

    def __init__(self, scorer: Scorer, prune_from: int, prune_share: float) -> None:
        self.scorer = scorer
        self.prune_from = prune_from
        self.prune_share = prune_share
        self._postings: dict[str, TermPostings] = {}
        self._df: dict[str, int] = {}
        self._kinds = bytearray()
        self._lengths = array("d")
        self._dead: set[int] = set()  # removed passages still in the postings
        self._removed = bytearray()  # 1 for a removed passage, by doc number
        self._alive = 0
        self._total_length = 0.0
        self._all_df: np.ndarray | None = None
        self._sums = np.zeros(0)  # per passage, zero between queries: see `_accumulate`
        self._seen = np.zeros(0, dtype=np.uint8)

    def _append_postings(self, terms, tfs, counts, docs) -> None:
        """Group (term, doc, tf) triples by term with one stable sort and append each term's run."""
        if not docs:
            return
        all_terms = list(chain.from_iterable(terms))
        vocabulary = list(dict.fromkeys(all_terms))
        number = {term: i for i, term in enumerate(vocabulary)}
        term_ids = np.fromiter(map(number.__getitem__, all_terms), dtype=np.int32, count=len(all_terms))
        doc_ids = np.repeat(np.array(docs, dtype=np.int32), counts)
        term_tfs = np.minimum(
            np.fromiter(chain.from_iterable(tfs), dtype=np.int64, count=len(all_terms)), 65535
        )
        # A stable sort by term keeps each term's passages in order; on 16-bit keys it is a radix sort.
        keys = term_ids.astype(np.uint16) if len(vocabulary) <= 65536 else term_ids
        order = np.argsort(keys, kind="stable")
        doc_ids, term_tfs = doc_ids[order], term_tfs[order].astype(np.uint16)
        bounds = np.concatenate(([0], np.cumsum(np.bincount(term_ids, minlength=len(vocabulary)))))
        doc_bytes, tf_bytes = doc_ids.tobytes(), term_tfs.tobytes()
        for term, start, end in zip(vocabulary, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = TermPostings()
            postings.docs.frombytes(doc_bytes[4 * start : 4 * end])
            postings.tfs.frombytes(tf_bytes[2 * start : 2 * end])
            self._df[term] = self._df.get(term, 0) + end - start

    def _compact(self) -> None:
        """Drop removed passages from the postings, so queries stop skipping them."""
        removed = np.frombuffer(self._removed, dtype=np.uint8)
        for term in list(self._postings):
            postings = self._postings[term]
            docs = np.frombuffer(postings.docs, dtype=np.int32)
            keep = removed[docs] == 0
            if keep.all():
                continue
            if not keep.any():
                del self._postings[term]
                continue
            fresh = TermPostings()
            fresh.docs = array("i", docs[keep].tobytes())
            fresh.tfs = array("H", np.frombuffer(postings.tfs, dtype=np.uint16)[keep].tobytes())
            self._postings[term] = fresh
        self._dead.clear()

    def _score(
        self, weights: dict[str, float], depth: int | None = None, weighted: bool = False
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """The passages containing at least one term, with their BM25 scores (`weighted`: times their
        kind's prior), and each term's idf.

        With a `depth`, only the passages that can be among the `depth` best once weighted by their
        kind's prior (see `_lookups`) are sure to be there, with exact scores: the others may be left
        out. Without, every passage with a term is.
        """
        terms = [t for t in weights if t in self._df]
        if not terms or not self._alive:
            return np.empty(0, np.int64), np.empty(0), {}
        n_docs, avgdl = self._alive, self._total_length / self._alive
        df = np.array([self._df[t] for t in terms], dtype=np.float64)
        idf = dict(zip(terms, self.scorer.idf(n_docs, df, self._vocabulary_df()).tolist(), strict=True))
        base = float(self.scorer.tf_weight(0.0, 1.0, avgdl))
        factors = {t: weights[t] * idf[t] for t in terms}
        constant = sum(factor * base for factor in factors.values())
        # Summed in one order, the heaviest first, with or without pruning: the same scores to the bit.
        terms.sort(key=factors.__getitem__, reverse=True)
        lookups = self._lookups(terms, factors, constant, depth, avgdl, base) if depth else []
        scanned = terms[: len(terms) - len(lookups)]
        # With no lookups and positive factors (as a rule), every gain is positive: the constant is added
        # as the postings are summed, and every passage found is a match.
        whole = not lookups and min(factors.values()) > 0
        found = self._accumulate(
            scanned, factors, avgdl, base, constant if whole else 0.0, whole and weighted
        )
        docs, scores = self._living(*found)
        if whole:
            return docs, scores, idf
        for term in lookups:
            scores += self._gains(term, docs, avgdl, base) * factors[term]
        keep = scores > 0
        docs, scores = docs[keep], scores[keep] + constant
        if weighted:
            scores = scores * PRIOR_BY_KIND[np.frombuffer(self._kinds, dtype=np.uint8)[docs]]
        return docs, scores, idf

    def _living(self, docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The passages not removed (removed ones stay in the postings until a compaction)."""
        if not self._dead:
            return docs, scores
        alive = np.frombuffer(self._removed, dtype=np.uint8)[docs] == 0
        return docs[alive], scores[alive]

    def _gains(self, term: str, docs: np.ndarray, avgdl: float, base: float) -> np.ndarray:
        """What `term` adds to the score of each of `docs` (before its weight and idf; 0 for a passage
        without it), found by searching its postings: `native.score`'s gains, for a few passages."""
        postings = self._postings[term]
        own = np.frombuffer(postings.docs, dtype=np.int32)
        at = np.minimum(np.searchsorted(own, docs), len(own) - 1)
        tfs = np.where(own[at] == docs, np.frombuffer(postings.tfs, dtype=np.uint16)[at], 0)
        lengths = np.frombuffer(self._lengths, dtype=np.float64)[docs]
        return self.scorer.tf_weight(tfs.astype(np.float64), lengths, avgdl) - base

    def _lookups(self, terms, factors, constant, depth, avgdl, base) -> list[str]:
        """The terms, a tail of `terms` (heaviest first), whose postings need not be read in full
        (max-score pruning): a passage that has only these cannot be among the `depth` best, so they
        are looked up for the other passages only.

        The passages of the rarest term are scored exactly first; the `depth`-th best of them, weighted
        by prior, is a floor for the final `depth`-th best. The most common terms whose greatest
        possible contributions (the scorer's `max_gain`; priors are at most 1) add up to less than that
        floor are the ones returned, in the order of `terms`."""
        ceiling = getattr(self.scorer, "max_gain", None)
        if ceiling is None or len(terms) < 2 or min(factors.values()) < 0:
            return []
        postings = [self._df[term] for term in terms]
        if sum(postings) < self.prune_from or max(postings) < self.prune_share * sum(postings):
            return []  # reading them all is quicker than finding the floor
        rarest = min(terms, key=self._df.__getitem__)
        docs, scores = self._living(*self._accumulate([rarest], factors, avgdl, base, 0.0, False))
        if len(docs) < depth:
            return []
        for term in terms:
            if term != rarest:
                scores += self._gains(term, docs, avgdl, base) * factors[term]
        scores = (scores + constant) * PRIOR_BY_KIND[np.frombuffer(self._kinds, dtype=np.uint8)[docs]]
        floor = float(np.partition(scores, len(scores) - depth)[len(scores) - depth])
        bound, lookups = constant, []
        for term in reversed(terms):  # the lightest first, up to the rarest
            bound += factors[term] * ceiling
            if term == rarest or bound >= floor * (1 - 1e-9):  # a margin for rounding
                break
            lookups.append(term)
        return lookups[::-1]

    def _accumulate(
        self,
        terms: list[str],
        factors: dict[str, float],
        avgdl: float,
        base: float,
        constant: float,
        weighted: bool,
    ):
        """Each passage with one of `terms` once, with the sum of their gains times their factors (in
        the order of `terms`), plus `constant` (`weighted`: times the passage's prior). Summed in dense
        buffers kept between queries (the caller holds the lock); the passages come in the order found
        (`best_first` breaks ties by passage)."""
        if len(self._sums) < len(self._lengths):
            size = max(len(self._lengths), 2 * len(self._sums))
            self._sums, self._seen = np.zeros(size), np.zeros(size, dtype=np.uint8)
        postings = [self._postings[t] for t in terms]
        found, total = native.score(
            [p.docs for p in postings],
            [p.tfs for p in postings],
            [factors[t] for t in terms],
            self._lengths,
            self.scorer,
            avgdl,
            base,
            constant,
            self._kinds if weighted else None,
            PRIOR_BY_KIND if weighted else None,
            self._sums,
            self._seen,
        )
        return np.frombuffer(found, dtype=np.int64), np.frombuffer(total, dtype=np.float64)

    def _vocabulary_df(self) -> np.ndarray:
        """Every term's document frequency; only BM25Okapi's idf floor needs it, so it is built lazily."""
        if not hasattr(self.scorer, "epsilon"):
            return np.empty(0)
        if self._all_df is None:
            self._all_df = np.fromiter(self._df.values(), dtype=np.float64, count=len(self._df))
        return self._all_df


def best_first(scores: np.ndarray, k: int, docs: np.ndarray | None = None) -> np.ndarray:
    """Indices of the `k` highest scores, best first (ties: earlier passage in `docs`, or earlier index)."""
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    docs = None if docs is None else np.ascontiguousarray(docs, dtype=np.int64)
    return np.frombuffer(native.top(scores, docs, k), dtype=np.int64)
