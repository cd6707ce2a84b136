"""Max-score pruning: `search` reads only part of the postings, and still ranks exactly as a full scan.

The corpora are small Zipf ones with a short vocabulary, so that scores tie often; some passages are
captions (prior 0.5) and some articles are removed, so that the floor, the priors and the dead passages
all come into play.
"""

import numpy as np
import pytest
import rank_bm25

from search import SearchIndex
from search.index import diversity_depth
from search.models import Article, Passage
from search.scoring import PRIOR_BY_KIND, PRUNE_SHARE, VARIANTS
from tests import synthetic

VOCAB = synthetic.vocabulary(400)


def corpus(seed: int, size: int = 1200) -> tuple[SearchIndex, list[list[str]]]:
    rng = np.random.default_rng(seed)
    texts = synthetic.passages(size, VOCAB, seed=seed, mean_tokens=20)
    index = SearchIndex(expand=False, min_coverage=0, prune_from=0, prune_share=0)
    for i, words in enumerate(texts):
        kind = "caption" if rng.random() < 0.2 else "body"
        passage = Passage(article_id=f"a{i}", position=0, text=" ".join(words), kind=kind)
        index.add(Article(id=f"a{i}", title="t", source=f"a{i}.txt", text=passage.text, passages=(passage,)))
    for i in rng.choice(size, size // 10, replace=False):
        index.remove(f"a{i}")
    return index, texts


def ranked(index: SearchIndex, query: str, depth: int | None) -> list[tuple[int, float]]:
    """The `diversity_depth(10)` best passages and their final scores, as `search` ranks them."""
    docs, scores, _ = index._score(index.query_weights(query), depth)
    scores = scores * PRIOR_BY_KIND[np.frombuffer(index._kinds, dtype=np.uint8)[docs]]
    order = np.lexsort((docs, -scores))[: diversity_depth(10)]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pruned_ranking_equals_the_full_scan(seed):
    index, _ = corpus(seed)
    queries = [" ".join(q) for q in synthetic.queries(150, VOCAB, seed=seed + 10, skip_top=0)]
    pruned = 0
    for query in queries:
        assert ranked(index, query, diversity_depth(10)) == ranked(index, query, None), query
        weights = index.query_weights(query)
        docs, _, _ = index._score(weights, diversity_depth(10))
        pruned += len(docs) < len(index._score(weights)[0])
    assert pruned > len(queries) // 8, "pruning should skip passages for many of these queries"


def test_search_with_pruning_scores_as_rank_bm25_times_the_prior():
    index, texts = corpus(7)
    alive = [i for i in range(len(texts)) if f"a{i}" in index]
    bm25 = rank_bm25.BM25Plus([texts[i] for i in alive])
    for words in synthetic.queries(60, VOCAB, seed=8, skip_top=0):
        hits = index.search(" ".join(words), 10)
        scores = dict(zip(alive, bm25.get_scores(words), strict=True))
        for hit in hits:
            prior = 0.5 if hit.passage.kind == "caption" else 1.0
            assert np.isclose(hit.score, scores[int(hit.citation.article_id[1:])] * prior)
        best = max(
            s * (0.5 if index.get(f"a{i}").passages[0].kind == "caption" else 1.0) for i, s in scores.items()
        )
        assert not hits or np.isclose(hits[0].score, best)


def test_bm25l_has_no_bound_and_is_never_pruned():
    """BM25L's weight grows with tf without limit: no term can be skipped."""
    assert not hasattr(VARIANTS["BM25L"], "max_gain")
    index = SearchIndex(scorer=VARIANTS["BM25L"], expand=False, min_coverage=0, prune_from=0, prune_share=0)
    for i, words in enumerate(synthetic.passages(300, VOCAB, seed=4, mean_tokens=20)):
        index.add(synthetic.article(f"a{i}", [words]))
    for words in synthetic.queries(30, VOCAB, seed=9, skip_top=0):
        weights = index.query_weights(" ".join(words))
        assert len(index._score(weights, diversity_depth(10))[0]) == len(index._score(weights)[0])


def test_only_a_query_with_one_dominant_term_is_pruned():
    """Pruning skips only the common terms' postings: by default it is tried only when one term holds
    `PRUNE_SHARE` of the query's postings (two equally common terms: both are read in full)."""
    texts = [
        ["common", "filler"] + (["rare"] if i % 20 == 0 else []) + (["zebra"] if i % 2 else [])
        for i in range(2000)
    ]
    index = SearchIndex(expand=False, min_coverage=0, prune_from=0)
    for i, words in enumerate(texts):
        passage = Passage(article_id=f"a{i}", position=0, text=" ".join(words), kind="body")
        index.add(Article(id=f"a{i}", title="t", source=f"a{i}.txt", text=passage.text, passages=(passage,)))

    def candidates(query: str, share: float) -> int:
        index.prune_share = share
        return len(index._score(index.query_weights(query), diversity_depth(10))[0])

    full = len(index._score(index.query_weights("rare common"))[0])
    assert candidates("rare common", PRUNE_SHARE) < full  # common holds 95% of the postings
    assert candidates("zebra common", PRUNE_SHARE) == len(
        index._score(index.query_weights("zebra common"))[0]
    )
    assert candidates("zebra common", 0) < len(index._score(index.query_weights("zebra common"))[0])
