"""The BM25 index: an inverted index over passages, scored exactly as rank-bm25 scores them.

rank-bm25 stores one dict of term counts per passage and, for each query term, reads every passage's
dict: its cost grows with the corpus. This index keeps, for each term, the passages that contain it
(compact arrays), so a query reads only the postings of its own terms, and `add` or `remove` touches
only the terms of one article. idf and the average passage length are computed at query time from the
live counts, so scores stay equal to rank-bm25's on the same passages after any number of changes.
"""

from __future__ import annotations

import heapq
import math
import threading
from array import array
from collections import Counter

import numpy as np

from search.analysis import LANGUAGES, Analyzer, QueryWord, fold_accents
from search.filters import Filters
from search.lexicon import Lexicon, default_lexicon
from search.models import Article, Citation, Hit, Passage
from search.query import clean_query
from search.scoring import BM25Plus, Scorer
from search.semantic import FUSION_DEPTH, Embedder, reciprocal_rank_fusion
from search.snippets import make_snippet
from search.stopwords import QUESTION_WORDS

DEFAULT_SCORER: Scorer = BM25Plus()
# A photo caption names people and places but is a weaker source than the article's own text.
KIND_PRIORS = {"caption": 0.5}
PREFIX_WEIGHT = 0.5  # a stem that is a prefix of the query's stem (valuat -> valu) counts half
TYPO_WEIGHT = 0.5  # an indexed term one edit away from an unknown query term (mensh -> mensch)
TYPO_MIN_CHARS = 5
# "Nothing found" below this share of the question's information (idf) that the articles know.
DEFAULT_MIN_COVERAGE = 0.4
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class _Postings:
    """The passages (doc numbers) that contain one term, and how often."""

    __slots__ = ("docs", "tfs")

    def __init__(self) -> None:
        self.docs = array("i")
        self.tfs = array("H")


class SearchIndex:
    """Articles in, ranked cited passages out. Safe to `add` and `remove` while queries are served."""

    def __init__(
        self,
        analyzer: Analyzer | None = None,
        scorer: Scorer = DEFAULT_SCORER,
        *,
        per_article: int = 2,
        near_duplicate: float = 0.8,
        expand: bool = True,
        lexicon: Lexicon | None = None,
        min_coverage: float = DEFAULT_MIN_COVERAGE,
        embedder: Embedder | None = None,
    ) -> None:
        """With `expand`, a query also looks up the lexicon's other words for its words (`lexicon`, by
        default the one of search/lexicons), a term one typo away from an unknown word, and an unknown
        name's stem in the other language; without, it is BM25 on the user's own words alone.
        `min_coverage` is the gate of `coverage` (0 turns it off); with an `embedder`, passages are
        embedded as they are added and search fuses BM25 with the embeddings' ranking."""
        self.analyzer = analyzer or Analyzer()
        self.expand = expand
        self.embedder = embedder
        # Passage embeddings by doc number (kept here until the store can keep them).
        self._vectors: dict[int, np.ndarray] = {}
        self.lexicon = lexicon if lexicon is not None else default_lexicon(self.analyzer)
        self.min_coverage = min_coverage
        self.scorer = scorer
        self.per_article = per_article
        self.near_duplicate = near_duplicate
        self._lock = threading.RLock()
        self._articles: dict[str, Article] = {}
        self._article_docs: dict[str, list[int]] = {}
        self._passages: list[Passage | None] = []
        self._languages: list[str] = []
        self._lengths = array("d")
        self._priors = array("d")
        self._postings: dict[str, _Postings] = {}
        self._df: dict[str, int] = {}
        self._dead: set[int] = set()
        self._alive = 0
        self._total_length = 0.0
        self._all_df: np.ndarray | None = None

    # -- contents -------------------------------------------------------------------------------------

    @property
    def article_count(self) -> int:
        return len(self._articles)

    @property
    def passage_count(self) -> int:
        return self._alive

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def get(self, article_id: str) -> Article | None:
        return self._articles.get(article_id)

    def add(self, article: Article) -> bool:
        """Index `article`'s passages; False when an article with the same id is already there."""
        analysed = [
            (passage, self.analyzer.terms(passage.text, article.language))
            for passage in article.passages
            if passage.searchable
        ]
        vectors = self.embedder.passages([p.text for p, _ in analysed]) if self.embedder else None
        with self._lock:
            if article.id in self._articles:
                return False
            self._articles[article.id] = article
            self._article_docs[article.id] = [
                self._add_passage(p, terms, article.language) for p, terms in analysed
            ]
            if vectors is not None:
                self._vectors.update(zip(self._article_docs[article.id], vectors, strict=True))
            self._all_df = None
            return True

    def _add_passage(self, passage: Passage, terms: list[str], language: str) -> int:
        doc = len(self._passages)
        self._passages.append(passage)
        self._languages.append(language)
        self._lengths.append(len(terms))
        self._priors.append(KIND_PRIORS.get(passage.kind, 1.0))
        for term, count in Counter(terms).items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings()
            postings.docs.append(doc)
            postings.tfs.append(min(count, 65535))
            self._df[term] = self._df.get(term, 0) + 1
        self._alive += 1
        self._total_length += len(terms)
        return doc

    def remove(self, article_id: str) -> bool:
        """Take an article out of the index; False when it was not there."""
        with self._lock:
            article = self._articles.pop(article_id, None)
            if article is None:
                return False
            for doc in self._article_docs.pop(article_id):
                passage = self._passages[doc]
                for term in set(self.analyzer.terms(passage.text, article.language)):
                    self._df[term] -= 1
                    if not self._df[term]:
                        del self._df[term]
                self._passages[doc] = None
                self._vectors.pop(doc, None)
                self._dead.add(doc)
                self._alive -= 1
                self._total_length -= self._lengths[doc]
            self._all_df = None
            if len(self._dead) > max(1000, len(self._passages) // 4):
                self._compact()
            return True

    def _compact(self) -> None:
        """Drop removed passages from the postings, so queries stop skipping them."""
        dead = np.fromiter(self._dead, dtype=np.int32)
        for term in list(self._postings):
            postings = self._postings[term]
            docs = np.frombuffer(postings.docs, dtype=np.int32)
            keep = ~np.isin(docs, dead)
            if keep.all():
                continue
            if not keep.any():
                del self._postings[term]
                continue
            fresh = _Postings()
            fresh.docs = array("i", docs[keep].tobytes())
            fresh.tfs = array("H", np.frombuffer(postings.tfs, dtype=np.uint16)[keep].tobytes())
            self._postings[term] = fresh
        self._dead.clear()

    # -- ranking --------------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The best passages for `query`, at most `limit`, diverse; [] when nothing matches.

        With `filters`, only passages of the articles they accept, containing their exact phrases,
        are ranked (before diversity, so that `limit` filtered passages come back when there are).
        Raises QueryError for an empty or over-long query.
        """
        query = clean_query(query)
        query_vector = self.embedder.query(query) if self.embedder and self._vectors else None
        with self._lock:
            weights, coverage = self._plan(query)
            if coverage < self.min_coverage:
                return []
            docs, scores, idf = self._score(weights)
            docs, scores = self._filtered(docs, scores, filters)
            scores = scores * np.frombuffer(self._priors, dtype=np.float64)[docs]
            if query_vector is not None:
                docs, scores = self._filtered(*self._fuse(docs, scores, query_vector), filters)
            ranked = self._diverse(docs, scores, limit)
            found = [(self._passages[doc], self._languages[doc], score) for doc, score in ranked]
            articles = {p.article_id: self._articles[p.article_id] for p, _, _ in found}
        snippet_weights = {term: weights[term] * idf[term] for term in idf}
        hits = []
        for passage, language, score in found:
            marks = self.analyzer.marks(passage.text, language, snippet_weights.keys())
            hits.append(
                Hit(
                    score=score,
                    passage=passage,
                    snippet=make_snippet(passage, marks, snippet_weights),
                    citation=articles[passage.article_id].citation,
                    terms=tuple(term for term in idf if any(term in m.terms for m in marks)),
                )
            )
        return hits

    def _filtered(self, docs: np.ndarray, scores: np.ndarray, filters: Filters | None):
        if not filters:
            return docs, scores
        keep = np.fromiter((self._accepts(int(doc), filters) for doc in docs), bool, len(docs))
        return docs[keep], scores[keep]

    def _accepts(self, doc: int, filters: Filters) -> bool:
        passage = self._passages[doc]
        article = self._articles[passage.article_id]
        outlet = article.outlet or article.source
        return filters.accepts_article(
            language=article.language, date=article.date, outlet=outlet
        ) and filters.accepts_text(passage.text)

    def newest(self, limit: int, filters: Filters | None = None) -> list[Article]:
        """The newest articles the filters accept (undated ones last), at most `limit`."""
        with self._lock:
            articles = [
                a
                for a in self._articles.values()
                if not filters
                or (
                    filters.accepts_article(language=a.language, date=a.date, outlet=a.outlet or a.source)
                    and filters.accepts_text(f"{a.title}\n{a.text}")
                )
            ]
        return heapq.nsmallest(limit, articles, key=_newest_first)

    def _fuse(self, docs: np.ndarray, scores: np.ndarray, query_vector: np.ndarray):
        """BM25's ranking and the embeddings' ranking, fused by reciprocal rank; the fused score ranks."""
        lexical = [int(docs[i]) for i in _top(scores, FUSION_DEPTH)]
        vector_docs = np.fromiter(self._vectors, dtype=np.int64, count=len(self._vectors))
        similarity = np.stack(list(self._vectors.values())) @ query_vector
        semantic = [int(vector_docs[i]) for i in _top(similarity, FUSION_DEPTH)]
        fused = reciprocal_rank_fusion([lexical, semantic])
        fused_docs = np.fromiter(fused, dtype=np.int64, count=len(fused))
        return fused_docs, np.fromiter(fused.values(), dtype=np.float64, count=len(fused))

    def query_weights(self, query: str) -> dict[str, float]:
        """Each query term with its weight: 1 per occurrence of the user's own words, less for the rest.

        Snowball stems `valuation` to `valuat` but `valued` to `valu`: when a query stem is not the
        whole story, the longest indexed stem that starts it (at least 60% of it) is looked up too, at
        PREFIX_WEIGHT. An own term that no passage has may be a typo: the indexed term one edit away
        comes in at TYPO_WEIGHT. The lexicon's other words for the question's words come in below them.
        """
        with self._lock:
            return self._plan(query)[0]

    def coverage(self, query: str) -> float:
        """The share of the question's information that the articles know, from 0 to 1.

        Each word of the user's own (not the expansion's) weighs its idf, and an unknown word the most;
        a word counts as known when a passage has it, a shorter form of it, a term one typo away, or
        one of the lexicon's words for it. `search` answers "nothing found" below `min_coverage`.
        """
        with self._lock:
            return self._plan(query)[1]

    def _plan(self, query: str) -> tuple[dict[str, float], float]:
        words = self.analyzer.query_words(query)
        own = [term for word in words for term in word.terms]
        weights: dict[str, float] = dict(Counter(own))
        found: dict[str, list[str]] = {term: [term] for term in weights if term in self._df}
        for term in list(weights):
            if len(term) < 5 or term[0].isdigit():
                continue
            for size in range(len(term) - 1, max(4, math.ceil(0.6 * len(term))) - 1, -1):
                prefix = term[:size]
                if prefix in self._df:
                    weights.setdefault(prefix, PREFIX_WEIGHT)
                    found.setdefault(term, []).append(prefix)
                    break
        if not self.expand:
            return weights, self._coverage(words, found)
        languages = self.analyzer.query_languages(query)
        for word in words:
            if not any(term in found for term in word.terms):
                # A name in an English question stemmed as English (`codestr`) may be indexed as French.
                for language in LANGUAGES:
                    if language not in languages:
                        other = [t for t in self.analyzer.word_terms(word.text, language) if t in self._df]
                        for term in other:
                            weights.setdefault(term, 1.0)
                        if other:
                            found.setdefault(word.terms[0], []).extend(other)
        expansion = self.lexicon.expand(query, languages, weights)
        for term, weight in expansion.weights.items():
            if term in self._df:
                weights.setdefault(term, weight)
        for term, added in expansion.sources.items():
            found.setdefault(term, []).extend(t for t in added if t in self._df)
        for term in list(weights):
            if term in own and not found.get(term) and (fixed := self._typo(term)):
                weights.setdefault(fixed, TYPO_WEIGHT)
                found[term] = [fixed]
        return weights, self._coverage(words, found)

    def _typo(self, term: str) -> str | None:
        """The most frequent indexed term one edit (deletion, swap, change, insertion) from `term`."""
        if len(term) < TYPO_MIN_CHARS or not term.isalpha():
            return None
        splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
        candidates = {a + b[1:] for a, b in splits if b}
        candidates |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        candidates |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
        candidates |= {a + c + b for a, b in splits for c in _LETTERS}
        known = [c for c in candidates if c in self._df and c != term]
        return max(known, key=lambda c: (self._df[c], c)) if known else None

    def _coverage(self, words: list[QueryWord], found: dict[str, list[str]]) -> float:
        if not words or not self._alive:
            return 0.0
        unknown = math.log(self._alive + 1)
        total = covered = 0.0
        for word in words:
            if fold_accents(word.text.lower()) in QUESTION_WORDS:
                continue
            matched = [t for term in word.terms for t in found.get(term, ())]
            if matched:
                weight = max(unknown - math.log(min(self._df[t] for t in matched)), 0.0)
                covered += weight
            else:
                weight = unknown
            total += weight
        return covered / total if total else 1.0

    def rank(self, terms: list[str], limit: int) -> list[tuple[Passage, float]]:
        """The plain BM25 top `limit` for analysed `terms`, without diversity: what rank-bm25 returns."""
        with self._lock:
            docs, scores, _ = self._score(dict(Counter(terms)))
            order = _top(scores, limit)
            return [(self._passages[docs[i]], float(scores[i])) for i in order]

    def _score(self, weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """The passages containing at least one term, with their BM25 scores, and each term's idf."""
        terms = [t for t in weights if t in self._df]
        if not terms or not self._alive:
            return np.empty(0, np.int64), np.empty(0), {}
        n_docs, avgdl = self._alive, self._total_length / self._alive
        df = np.array([self._df[t] for t in terms], dtype=np.float64)
        idf = self.scorer.idf(n_docs, df, self._vocabulary_df())
        lengths = np.frombuffer(self._lengths, dtype=np.float64)
        base = float(self.scorer.tf_weight(np.zeros(1), np.ones(1), avgdl)[0])
        parts_docs, parts_scores = [], []
        for term, term_idf in zip(terms, idf, strict=True):
            postings = self._postings[term]
            docs = np.frombuffer(postings.docs, dtype=np.int32)
            tfs = np.frombuffer(postings.tfs, dtype=np.uint16).astype(np.float64)
            gain = self.scorer.tf_weight(tfs, lengths[docs], avgdl) - base
            parts_docs.append(docs)
            parts_scores.append((weights[term] * term_idf) * gain)
        docs, scores = _accumulate(parts_docs, parts_scores, len(self._passages))
        if self._dead:
            alive = ~np.isin(docs, np.fromiter(self._dead, dtype=np.int32))
            docs, scores = docs[alive], scores[alive]
        keep = scores > 0
        constant = sum(weights[t] * i * base for t, i in zip(terms, idf, strict=True))
        return docs[keep], scores[keep] + constant, dict(zip(terms, map(float, idf), strict=True))

    def _vocabulary_df(self) -> np.ndarray:
        """Every term's document frequency; only BM25Okapi's idf floor needs it, so it is built lazily."""
        if not hasattr(self.scorer, "epsilon"):
            return np.empty(0)
        if self._all_df is None:
            self._all_df = np.fromiter(self._df.values(), dtype=np.float64, count=len(self._df))
        return self._all_df

    def _diverse(self, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best first, each text once, near-copies dropped, at most `per_article` passages per article
        unless too few other articles match."""
        chosen: list[tuple[int, float]] = []
        deferred: list[tuple[int, float]] = []
        seen: list[set[str]] = []
        per_article: Counter[str] = Counter()
        for i in _top(scores, limit * 5 + 20):
            doc, score = int(docs[i]), float(scores[i])
            passage = self._passages[doc]
            words = set(passage.text.lower().split())
            if any(_jaccard(words, other) >= self.near_duplicate for other in seen):
                continue
            seen.append(words)
            if per_article[passage.article_id] >= self.per_article:
                deferred.append((doc, score))
                continue
            per_article[passage.article_id] += 1
            chosen.append((doc, score))
            if len(chosen) == limit:
                break
        chosen.extend(deferred[: limit - len(chosen)])
        return sorted(chosen, key=lambda pair: (-pair[1], pair[0]))

    # -- related articles -----------------------------------------------------------------------------

    def related(self, article: Article, limit: int = 3) -> list[Citation]:
        """Other indexed articles closest to `article`, by a query of its most distinctive terms."""
        counts = Counter(
            term
            for passage in article.passages
            if passage.kind in ("body", "list")
            for term in self.analyzer.terms(passage.text, article.language)
        )
        counts.update(self.analyzer.terms(article.title, article.language))
        with self._lock:
            n_docs = max(self._alive, 1)
            distinctive = sorted(
                (t for t in counts if t in self._df),
                key=lambda t: counts[t] * math.log((n_docs + 1) / self._df[t]),
                reverse=True,
            )[:20]
            docs, scores, _ = self._score(dict.fromkeys(distinctive, 1.0))
            best: dict[str, float] = {}
            for i in _top(scores, len(scores)):
                article_id = self._passages[int(docs[i])].article_id
                if article_id != article.id:
                    best[article_id] = best.get(article_id, 0.0) + float(scores[i])
            ranked = sorted(best, key=best.get, reverse=True)[:limit]
            return [self._articles[a].citation for a in ranked]


def _accumulate(
    docs: list[np.ndarray], scores: list[np.ndarray], n_docs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sum per passage. Dense when the postings cover much of the corpus, sparse otherwise."""
    total = sum(len(d) for d in docs)
    if total == 0:
        return np.empty(0, np.int64), np.empty(0)
    if len(docs) == 1:
        return docs[0].astype(np.int64), scores[0]
    if total * 8 > n_docs:
        dense = np.zeros(n_docs)
        for d, s in zip(docs, scores, strict=True):
            dense[d] += s
        found = np.flatnonzero(dense)
        return found, dense[found]
    all_docs = np.concatenate(docs)
    unique, inverse = np.unique(all_docs, return_inverse=True)
    return unique.astype(np.int64), np.bincount(inverse, weights=np.concatenate(scores))


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` highest scores, best first (ties: earlier passage first)."""
    if k <= 0 or not len(scores):
        return np.empty(0, np.int64)
    if k < len(scores):
        candidates = np.argpartition(-scores, k - 1)[:k]
    else:
        candidates = np.arange(len(scores))
    return candidates[np.lexsort((candidates, -scores[candidates]))]


def _newest_first(article: Article) -> tuple:
    return (
        article.date is None,
        -(article.date.toordinal() if article.date else 0),
        article.title,
        article.id,
    )


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
