"""The BM25 index: an inverted index over passages, scored exactly as rank-bm25 scores them.

rank-bm25 stores one dict of term counts per passage and, for each query term, reads every passage's
dict: its cost grows with the corpus. This index keeps, for each term, the passages that contain it
(compact arrays), so a query reads only the postings of its own terms, and `add` or `remove` touches
only the terms of one article. idf and the average passage length are computed at query time from the
live counts, so scores stay equal to rank-bm25's on the same passages after any number of changes.

The postings and their scoring are `search.scoring.Postings`; a query's terms, weights and coverage
are planned by `search.query.plan`; this module keeps the articles' and passages' columns.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import threading
from array import array
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from itertools import chain
from typing import NamedTuple

import numpy as np

from search import native
from search.analysis import Analyzer, Marker
from search.lexicon import Lexicon, default_lexicon
from search.models import CITED, Article, Citation, Hit, Language, Passage, Span, construct
from search.query import Filters, clean_query, plan
from search.scoring import (
    HEADING,
    KIND_CODES,
    KINDS,
    PRUNE_FROM_POSTINGS,
    PRUNE_SHARE,
    BM25Plus,
    Postings,
    Scorer,
    best_first,
)
from search.semantic import FUSION_DEPTH, Embedder, VectorKeeper, reciprocal_rank_fusion
from search.summary import make_snippet

DEFAULT_SCORER: Scorer = BM25Plus()
# "Nothing found" below this share of the question's information (idf) that the articles know.
DEFAULT_MIN_COVERAGE = 0.4


# Passages analysed at a time by `extend`: bounds the memory of a build (their term counts), and is
# large enough that each term's postings grow by few appends.
EXTEND_PASSAGES = 50_000
_LANGUAGES: tuple[Language, ...] = ("en", "fr")


class AnalysedPassage(NamedTuple):
    """A passage with its analysed terms: what the index keeps, and what a saved index holds."""

    position: int
    kind: str
    text: str
    sentences: tuple[Span, ...]
    length: int  # the number of terms (0 for a heading, which is not searched)
    counts: dict[str, int]  # each term with its frequency in the passage


class ArticleRecord(NamedTuple):
    """An article's citation fields and its analysed passages."""

    id: str
    title: str
    date: dt.date | None
    language: str
    source: str
    passages: list[AnalysedPassage]
    url: str | None = None
    outlet: str | None = None
    date_source: str | None = None


class SearchIndex(Postings):
    """Articles in, ranked cited passages out. Safe to `add` and `remove` while queries are served.

    The passages are held in columns (texts, kinds, sentence spans, lengths, the article they belong
    to), not as objects: a `Passage` or an `Article` is made only for a hit or a `get`. That keeps the
    index at a few hundred bytes a passage beyond the texts themselves.
    """

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
        prune_from: int = PRUNE_FROM_POSTINGS,
        prune_share: float = PRUNE_SHARE,
        embedder: Embedder | None = None,
    ) -> None:
        """With `expand`, a query also looks up the lexicon's other words for its words (`lexicon`, by
        default the one of search/lexicons), a term one typo away from an unknown word, and an unknown
        name's stem in the other language; without, it is BM25 on the user's own words alone.
        `min_coverage` is the gate of `coverage` (0 turns it off); with an `embedder`, passages are
        embedded as they are added and search fuses BM25 with the embeddings' ranking. With a
        `keeper` too (the store: see bot/news/search_index.py), embeddings it keeps are taken instead of
        computed, and those computed are handed to it. A query whose terms have `prune_from` postings
        or more, `prune_share` of them one term's, is scored with max-score pruning (see `_lookups`)."""
        super().__init__(scorer, prune_from, prune_share)
        self.analyzer = analyzer or Analyzer()
        self.expand = expand
        self.embedder = embedder
        self.keeper: VectorKeeper | None = None
        self._vectors: dict[int, np.ndarray] = {}  # passage embeddings by doc number
        self.lexicon = lexicon if lexicon is not None else default_lexicon(self.analyzer)
        self.min_coverage = min_coverage
        self.per_article = per_article
        self.near_duplicate = near_duplicate
        self._lock = threading.RLock()
        # One slot per article ever added (None fields once removed).
        self._slots: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._titles: list[str | None] = []
        self._sources: list[str | None] = []
        self._urls: list[str | None] = []
        self._outlets: list[str | None] = []
        self._date_sources: list[str | None] = []
        self._dates = array("i")  # proleptic ordinal, 0 for no date
        self._article_languages = bytearray()
        self._first_doc = array("i")
        self._doc_counts = array("i")
        # One doc per passage (headings included, though never searched).
        self._texts: list[str | None] = []
        self._doc_slots = array("i")
        self._positions = array("i")
        self._sentence_bounds = array("q", [0])  # doc d's spans are _spans[2*b[d] : 2*b[d+1]]
        self._spans = array("i")

    # -- contents -------------------------------------------------------------------------------------

    @property
    def article_count(self) -> int:
        return len(self._slots)

    @property
    def passage_count(self) -> int:
        return self._alive

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._slots

    def article_ids(self) -> set[str]:
        with self._lock:
            return set(self._slots)

    def dated_between(self, first: dt.date | None, last: dt.date | None) -> list[str]:
        """The ids of the articles dated from `first` to `last`, both included (None: the undated ones)."""
        with self._lock:
            dates = np.frombuffer(self._dates, dtype=f"i{self._dates.itemsize}")
            if first is None or last is None:
                slots = np.flatnonzero(dates == 0)
            else:
                slots = np.flatnonzero((dates >= first.toordinal()) & (dates <= last.toordinal()))
            return [article_id for slot in slots if (article_id := self._ids[slot]) is not None]

    def get(self, article_id: str) -> Article | None:
        """The article, made from the index's columns. Its `text` is its title and passages joined
        (the file's exact text is in the store)."""
        with self._lock:
            slot = self._slots.get(article_id)
            if slot is None:
                return None
            first = self._first_doc[slot]
            passages = tuple(self._passage(doc) for doc in range(first, first + self._doc_counts[slot]))
            citation = self._citation(slot)
        return Article(
            id=citation.article_id,
            text="\n\n".join([citation.title, *(p.text for p in passages)]),
            passages=passages,
            **{name: getattr(citation, name) for name in CITED},
        )

    def add(self, article: Article) -> bool:
        """Index `article`'s passages; False when an article with the same id is already there."""
        record = self.analyse(article)
        vectors = self._article_vectors(record)
        with self._lock:
            if article.id in self._slots:
                return False
            first = len(self._texts)
            self._insert([record])
            self._vectors.update((first + position, vector) for position, vector in vectors.items())
            return True

    def extend(self, articles: Iterable[Article]) -> int:
        """Add many articles at once (a build): the postings are appended in bulk. The number added."""
        added = 0
        records: list[ArticleRecord] = []
        passages = 0
        with collector_paused():
            for article in articles:
                records.append(self.analyse(article))
                passages += len(article.passages)
                if passages >= EXTEND_PASSAGES:
                    added += self.insert_records(records)
                    records, passages = [], 0
            added += self.insert_records(records)
        self.embed_missing()
        return added

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        return list(self.embedder.passages(texts)) if self.embedder and texts else []

    def _article_vectors(self, record: ArticleRecord) -> dict[int, np.ndarray]:
        """The embeddings of a record's searchable passages by position: the keeper's, the rest computed
        (and handed to the keeper)."""
        if self.embedder is None:
            return {}
        texts = {i: p.text for i, p in enumerate(record.passages) if p.kind != "heading"}
        kept = self.keeper.kept([record.id]).get(record.id, {}) if self.keeper else {}
        vectors = {i: kept[i] for i in texts if i in kept}
        missing = [i for i in texts if i not in vectors]
        computed = dict(zip(missing, self._embed([texts[i] for i in missing]), strict=True))
        if computed and self.keeper:
            self.keeper.keep(record.id, computed)
        return vectors | computed

    def embed_missing(self) -> None:
        """Give a vector to the passages that have none yet (after a bulk `extend`, or a load: the saved
        index does not keep vectors): the keeper's, else computed a batch at a time outside the lock."""
        if self.embedder is None:
            return
        with self._lock:
            missing = [
                d
                for d, text in enumerate(self._texts)
                if text is not None and self._kinds[d] != HEADING and d not in self._vectors
            ]
        if self.keeper is not None:
            missing = self._take_kept(missing)
        for batch in batched(missing, 256):
            with self._lock:
                texts = [self._texts[d] for d in batch]
            if any(text is None for text in texts):
                batch = [d for d, text in zip(batch, texts, strict=True) if text is not None]
                texts = [text for text in texts if text is not None]
            vectors = self._embed(texts)
            with self._lock:
                for doc, vector in zip(batch, vectors, strict=True):
                    if not self._removed[doc]:
                        self._vectors[doc] = vector
            if self.keeper is not None:
                for article_id, by_position in self._by_article(zip(batch, vectors, strict=True)).items():
                    self.keeper.keep(article_id, by_position)

    def _take_kept(self, missing: list[int]) -> list[int]:
        """Set the keeper's vectors of the `missing` docs; the docs still without one."""
        assert self.keeper is not None
        left = []
        for batch in batched(missing, 4096):
            with self._lock:
                wanted = {self._ids[self._doc_slots[d]] for d in batch} - {None}
            kept = self.keeper.kept(sorted(wanted))
            with self._lock:
                for doc in batch:
                    slot = self._doc_slots[doc]
                    vector = kept.get(self._ids[slot], {}).get(doc - self._first_doc[slot])
                    if vector is None:
                        left.append(doc)
                    elif not self._removed[doc]:
                        self._vectors[doc] = vector
        return left

    def _by_article(self, pairs: Iterable[tuple[int, np.ndarray]]) -> dict[str, dict[int, np.ndarray]]:
        """(doc, vector) pairs as vectors by passage position, by article id (removed articles left out)."""
        grouped: dict[str, dict[int, np.ndarray]] = {}
        with self._lock:
            for doc, vector in pairs:
                slot = self._doc_slots[doc]
                article_id = self._ids[slot]
                if article_id is not None:
                    grouped.setdefault(article_id, {})[doc - self._first_doc[slot]] = vector
        return grouped

    def insert_records(self, records: Iterable[ArticleRecord]) -> int:
        """Add already analysed articles (from `analyse`, or read back from a saved index)."""
        with self._lock:
            fresh: dict[str, ArticleRecord] = {}
            for record in records:
                if record.id not in self._slots:
                    fresh.setdefault(record.id, record)
            self._insert(list(fresh.values()))
            return len(fresh)

    def analyse(self, article: Article) -> ArticleRecord:
        """The article's fields and its passages' terms, ready to insert (or to save)."""
        passages = []
        for passage in article.passages:
            counts: dict[str, int] = {}
            length = 0
            if passage.searchable:
                terms = self.analyzer.terms(passage.text, article.language)
                counts, length = Counter(terms), len(terms)
            passages.append(
                AnalysedPassage(
                    passage.position, passage.kind, passage.text, passage.sentences, length, counts
                )
            )
        return ArticleRecord(
            article.id,
            article.title,
            article.date,
            article.language,
            article.source,
            passages,
            article.url,
            article.outlet,
            article.date_source,
        )

    def _insert(self, records: list[ArticleRecord]) -> None:
        """Append articles whose ids are not indexed yet; the postings of all their passages in one go."""
        pair_terms: list[Iterable[str]] = []
        pair_tfs: list[Iterable[int]] = []
        pair_counts: list[int] = []
        pair_docs: list[int] = []
        for record in records:
            slot = len(self._ids)
            self._slots[record.id] = slot
            self._ids.append(record.id)
            self._titles.append(record.title)
            self._sources.append(record.source)
            self._urls.append(record.url)
            self._outlets.append(record.outlet)
            self._date_sources.append(record.date_source)
            self._dates.append(record.date.toordinal() if record.date else 0)
            self._article_languages.append(_LANGUAGES.index(record.language))
            self._first_doc.append(len(self._texts))
            self._doc_counts.append(len(record.passages))
            for passage in record.passages:
                doc = len(self._texts)
                kind = KIND_CODES[passage.kind]
                self._texts.append(passage.text)
                self._removed.append(0)
                self._doc_slots.append(slot)
                self._kinds.append(kind)
                self._positions.append(passage.position)
                for start, end in passage.sentences:
                    self._spans.append(start)
                    self._spans.append(end)
                self._sentence_bounds.append(len(self._spans) // 2)
                self._lengths.append(passage.length)
                if kind == HEADING:
                    continue
                self._alive += 1
                self._total_length += passage.length
                if passage.counts:
                    pair_terms.append(passage.counts.keys())
                    pair_tfs.append(passage.counts.values())
                    pair_counts.append(len(passage.counts))
                    pair_docs.append(doc)
        self._append_postings(pair_terms, pair_tfs, pair_counts, pair_docs)
        self._all_df = None

    def remove(self, article_id: str) -> bool:
        """Take an article out of the index; False when it was not there."""
        with self._lock:
            slot = self._slots.pop(article_id, None)
            if slot is None:
                return False
            language = _LANGUAGES[self._article_languages[slot]]
            first = self._first_doc[slot]
            for doc in range(first, first + self._doc_counts[slot]):
                text = self._texts[doc]
                self._texts[doc] = None
                self._removed[doc] = 1
                if self._kinds[doc] == HEADING:
                    continue
                for term in set(self.analyzer.terms(text, language)):
                    self._df[term] -= 1
                    if not self._df[term]:
                        del self._df[term]
                self._vectors.pop(doc, None)
                self._dead.add(doc)
                self._alive -= 1
                self._total_length -= self._lengths[doc]
            self._ids[slot] = self._titles[slot] = self._sources[slot] = None
            self._urls[slot] = self._outlets[slot] = self._date_sources[slot] = None
            self._all_df = None
            if len(self._dead) > max(1000, len(self._texts) // 4):
                self._compact()
            return True

    # -- passages, made on demand ---------------------------------------------------------------------

    def _passage(self, doc: int) -> Passage:
        slot = self._doc_slots[doc]
        low, high = self._sentence_bounds[doc], self._sentence_bounds[doc + 1]
        spans = self._spans[2 * low : 2 * high]
        return construct(
            Passage,
            {
                "article_id": self._ids[slot],
                "position": self._positions[doc],
                "text": self._texts[doc],
                "kind": KINDS[self._kinds[doc]],
                "sentences": tuple(zip(spans[::2], spans[1::2], strict=True)),
            },
        )

    def _citation(self, slot: int) -> Citation:
        ordinal = self._dates[slot]
        return construct(
            Citation,
            {
                "article_id": self._ids[slot],
                "title": self._titles[slot],
                "date": dt.date.fromordinal(ordinal) if ordinal else None,
                "source": self._sources[slot],
                "language": _LANGUAGES[self._article_languages[slot]],
                "url": self._urls[slot],
                "outlet": self._outlets[slot],
                "date_source": self._date_sources[slot],
            },
        )

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
            plain = not filters and query_vector is None
            docs, scores, idf = self._score(weights, diversity_depth(limit) if plain else None, weighted=True)
            docs, scores = self._filtered(docs, scores, filters)
            if query_vector is not None:
                docs, scores = self._filtered(*self._fuse(docs, scores, query_vector), filters)
            ranked = self._diverse(docs, scores, limit)
            found = [
                (self._passage(doc), self._citation(self._doc_slots[doc]), score) for doc, score in ranked
            ]
        snippet_weights = {term: weights[term] * idf[term] for term in idf}
        marker = self.analyzer.marker(snippet_weights)
        return [self._hit(hit, marker, snippet_weights) for hit in found]

    @staticmethod
    def _hit(ranked: tuple[Passage, Citation, float], marker: Marker, weights: dict[str, float]) -> Hit:
        """A hit with its snippet: the passage's words that give the query's terms, marked."""
        passage, citation, score = ranked
        marks = marker.marks(passage.text, citation.language)
        matched = set(chain.from_iterable(mark.terms for mark in marks))
        return construct(
            Hit,
            {
                "score": score,
                "passage": passage,
                "snippet": make_snippet(passage, marks, weights),
                "citation": citation,
                "terms": tuple(term for term in weights if term in matched),
            },
        )

    def _filtered(self, docs: np.ndarray, scores: np.ndarray, filters: Filters | None):
        if not filters:
            return docs, scores
        keep = np.fromiter((self._accepts(int(doc), filters) for doc in docs), bool, len(docs))
        return docs[keep], scores[keep]

    def _accepts(self, doc: int, filters: Filters) -> bool:
        citation = self._citation(self._doc_slots[doc])
        return filters.accepts_article(
            language=citation.language, date=citation.date, outlet=citation.outlet or citation.source
        ) and filters.accepts_text(self._texts[doc])

    def newest(self, limit: int, filters: Filters | None = None) -> list[Article]:
        """The newest articles the filters accept (undated ones last), at most `limit`."""
        with self._lock:
            citations = [self._citation(slot) for slot in self._slots.values()]
        if filters:
            citations = [
                c
                for c in citations
                if filters.accepts_article(language=c.language, date=c.date, outlet=c.outlet or c.source)
            ]
        newest: list[Article] = []
        for citation in self.newest_first(citations):
            article = self.get(citation.article_id)
            if article is not None and (not filters or filters.accepts_text(article.text)):
                newest.append(article)
                if len(newest) == limit:
                    break
        return newest

    def newest_first(self, citations: Iterable[Citation]) -> list[Citation]:
        """`citations` by date, newest first (undated last); of one day, the one indexed last first.

        Articles are indexed in the order they were first seen (a rebuild follows the store's order),
        so the later slot is the later arrival.
        """
        with self._lock:
            slots = self._slots

            def key(citation: Citation) -> tuple:
                date = citation.date.toordinal() if citation.date else 0
                return (citation.date is None, -date, -slots.get(citation.article_id, -1))

            return sorted(citations, key=key)

    def _fuse(self, docs: np.ndarray, scores: np.ndarray, query_vector: np.ndarray):
        """BM25's ranking and the embeddings' ranking, fused by reciprocal rank; the fused score ranks."""
        lexical = [int(docs[i]) for i in best_first(scores, FUSION_DEPTH, docs)]
        vector_docs = np.fromiter(self._vectors, dtype=np.int64, count=len(self._vectors))
        similarity = np.stack(list(self._vectors.values())) @ query_vector
        semantic = [int(vector_docs[i]) for i in best_first(similarity, FUSION_DEPTH)]
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
        return plan(query, self.analyzer, self._df, self._alive, self.lexicon if self.expand else None)

    def rank(self, terms: list[str], limit: int) -> list[tuple[Passage, float]]:
        """The plain BM25 top `limit` for analysed `terms`, without diversity: what rank-bm25 returns."""
        with self._lock:
            docs, scores, _ = self._score(dict(Counter(terms)))
            order = best_first(scores, limit, docs)
            return [(self._passage(int(docs[i])), float(scores[i])) for i in order]

    def _diverse(self, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Best first, each text once, near-copies dropped, at most `per_article` passages per article
        unless too few other articles match."""
        chosen: list[tuple[int, float]] = []
        deferred: list[tuple[int, float]] = []
        seen: list = []  # the word sets of the passages kept, in the form `near_copy` compares
        per_article: dict[int, int] = {}
        top = best_first(scores, diversity_depth(limit), docs)
        for doc, score in zip(docs[top].tolist(), scores[top].tolist(), strict=True):
            words = native.word_set(self._texts[doc])
            if native.near_copy(words, seen, self.near_duplicate):
                continue
            seen.append(words)
            slot = self._doc_slots[doc]
            taken = per_article.get(slot, 0)
            if taken >= self.per_article:
                deferred.append((doc, score))
                continue
            per_article[slot] = taken + 1
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
            for i in best_first(scores, len(scores), docs):
                slot = self._doc_slots[int(docs[i])]
                if self._ids[slot] != article.id:
                    best[slot] = best.get(slot, 0.0) + float(scores[i])
            ranked = sorted(best, key=best.get, reverse=True)[:limit]
            return [self._citation(slot) for slot in ranked]


def diversity_depth(limit: int) -> int:
    """How many of the best passages diversity looks through to find `limit` different ones."""
    return limit * 5 + 20


_PAUSES = {"count": 0, "was_enabled": False}
_PAUSES_LOCK = threading.Lock()


@contextmanager
def collector_paused():
    """Python's cycle collector off for a build. A build makes millions of small containers (each
    passage's term counts) that live until their chunk is inserted, and the collector would go through
    them again and again: a quarter of a build's time. They hold no reference cycles, so reference
    counting frees them; the collector resumes (if it was on) when the last build running ends."""
    with _PAUSES_LOCK:
        if _PAUSES["count"] == 0:
            _PAUSES["was_enabled"] = gc.isenabled()
            gc.disable()
        _PAUSES["count"] += 1
    try:
        yield
    finally:
        with _PAUSES_LOCK:
            _PAUSES["count"] -= 1
            if _PAUSES["count"] == 0 and _PAUSES["was_enabled"]:
                gc.enable()


def batched(items: Iterable, size: int) -> Iterable[list]:
    """`items` in lists of `size` (itertools.batched is Python 3.12+)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
